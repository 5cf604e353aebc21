# Every input rule of create: exit 2, the last stderr line is "KO: ..." naming the field,
# and nothing changed (no image, registry row, interface, route, proxy entry, mount).
set -euo pipefail
OK_DOMAIN=good.example.com OK_IP=203.0.113.12 OK_SIZE=128M

jc status >/dev/null 2>&1 || true   # let jailctl create its empty registry first
snapshot_state

# rejected <field> <args...>: create with those arguments is refused as bad input
rejected() {
  local field=$1; shift
  assert_exit 2 jc create "$@"
  assert_ko '[a-z_-]+' "$field"
  assert_state_unchanged default "state after 'create $*'"
}

label63=$(printf 'a%.0s' {1..63})
label64=$(printf 'a%.0s' {1..64})
info "domain"
for d in "exa mple.com" "ex_ample.com" "example..com" "test..com" "exa/mple.com" "1.2.3.4" "example.123" \
         "$label64.com" "$label63.$label63.$label63.$label63.com" "com" ".example.com" "example.com.." \
         "trailing-.example.com" "" "exa\$mple.com" "*.example.com"; do
  rejected domain "$d" --ip "$OK_IP" --size "$OK_SIZE"
done
rejected domain --ip "$OK_IP" --size "$OK_SIZE" -- -leading.example.com

info "ip"
for ip in 010.1.1.1 1.2.3 0x7f.0.0.1 "1.2.3.4 x" " 203.0.113.12" 203.0.113.12.5 256.1.1.1 "" \
          127.0.0.1 0.1.2.3 0.0.0.0 169.254.1.1 224.0.0.1 239.255.255.255 240.0.0.1 255.255.255.255 \
          203.0.113.1 203.0.113.0 203.0.113.255; do
  rejected '\bip|ipv4' "$OK_DOMAIN" --ip "$ip" --size "$OK_SIZE"
done

info "size"
for s in 0 10M 63M 1.5G 12Q 999999T M "" 64X 0x40M; do
  rejected size "$OK_DOMAIN" --ip "$OK_IP" --size "$s"
done
rejected size "$OK_DOMAIN" --ip "$OK_IP" --size=-5M

echo "bad_input: OK"
