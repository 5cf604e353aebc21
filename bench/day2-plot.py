#!/usr/bin/env python3
"""bench/day2-plot.py OUT.svg LABEL=RESULT.json... — a bar chart of bench/day2 results (the
medians of the .json it writes): per run set, jailctl backup and restore wall times beside
`tar | zstd` and `zstd -d | tar -x` of the same tree. Plain SVG, no plotting library."""
import json
import sys

METRICS = [("backup_s", "jailctl backup"), ("tar_zstd_backup_s", "tar | zstd -T0 -3"),
           ("restore_total_s", "jailctl restore"), ("zstd_tar_restore_s", "zstd -d | tar -x")]
COLOURS = ["#1f5f99", "#9bbbd9", "#8a3b12", "#e0a47f"]


def main():
    out, sets = sys.argv[1], []
    for arg in sys.argv[2:]:
        label, path = arg.split("=", 1)
        sets.append((label, json.load(open(path))))
    top = max(s[m]["median"] for _, s in sets for m, _ in METRICS if m in s)
    width, height, left, bottom, bar = max(470, 80 + 150 * len(sets)), 380, 40, 300, 28
    scale = (bottom - 40) / top
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<text x="{left}" y="20" font-size="14">bench/day2: wall time, seconds (median; lower is better)</text>',
           f'<line x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}" stroke="black"/>']
    for i, (label, s) in enumerate(sets):
        x0 = left + 10 + i * 150
        for j, (m, _) in enumerate(METRICS):
            if m not in s:
                continue
            v = s[m]["median"]
            h = v * scale
            x = x0 + j * bar
            svg.append(f'<rect x="{x}" y="{bottom - h:.1f}" width="{bar - 4}" height="{h:.1f}" fill="{COLOURS[j]}"/>')
            svg.append(f'<text x="{x + (bar - 4) / 2}" y="{bottom - h - 4:.1f}" text-anchor="middle" '
                       f'font-size="10">{v:.1f}</text>')
        svg.append(f'<text x="{x0 + 2 * bar}" y="{bottom + 16}" text-anchor="middle">{label}</text>')
    for j, (_, name) in enumerate(METRICS):  # the legend, two per line under the axis
        x, y = left + (j % 2) * 170, bottom + 36 + (j // 2) * 16
        svg.append(f'<rect x="{x}" y="{y - 10}" width="10" height="10" fill="{COLOURS[j]}"/>')
        svg.append(f'<text x="{x + 15}" y="{y}">{name}</text>')
    svg.append("</svg>")
    open(out, "w").write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
