// libFuzzer target for everything jailctl parses from untrusted text: the operator's
// domain, IP, size and CPU arguments, backup manifests, subordinate id files, the
// in-jail init's service list (tenant-writable), and the LXC config lines jailctl reads
// back. The first byte picks the parser; the rest is the input. Each parser must
// return an error, never crash, hang or read out of bounds (ASan + UBSan).
#include <cstddef>
#include <cstdint>
#include <string>

#include "host/limits.h"
#include "host/manifest.h"
#include "host/subid.h"
#include "init/service_list.h"
#include "jail/byte_size.h"
#include "jail/domain.h"
#include "jail/ipv4.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 7) {
        case 0:
            if (auto d = jailctl::Domain::parse(input)) (void)jailctl::Domain::parse(d->str());  // canonical form re-parses
            break;
        case 1:
            if (auto ip = jailctl::Ipv4::parse(input))
                if (!jailctl::Ipv4::parse(ip->str())) __builtin_trap();
            break;
        case 2:
            if (auto s = jailctl::ByteSize::parse(input, "size")) (void)s->human();
            break;
        case 3: (void)jailctl::parse_cpus(input); break;
        case 4: (void)jailctl::parse_manifest(input); break;
        case 5:
            (void)jailctl::subid_range_covered(input, "root", 1u << 30, 65536);
            (void)jailctl::subid_range_conflict(input, "root", 1u << 30, 65536);
            break;
        case 6: (void)jailctl::init::parse_service_list(input, "fuzz"); break;
    }
    return 0;
}

// GCC's -fsanitize-coverage=trace-cmp also traces floating-point comparisons, which
// libFuzzer has no hooks for: they carry no useful feedback here.
extern "C" void __sanitizer_cov_trace_cmpf(float, float) {}
extern "C" void __sanitizer_cov_trace_cmpd(double, double) {}
