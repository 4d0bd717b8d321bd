#!/usr/bin/env python3
"""Which pages of a running binary are resident, by ELF section and, for `.text`, by Swift module.

    python3 Benchmarks/resident-pages.py PID BINARY     # as root: /proc/PID/pagemap

The idle RSS of `serve` is mostly file-backed pages (code and read-only data of the binary and of
the shared Swift libraries); `/proc/PID/smaps` gives each mapping's total, this gives what inside
the binary's mappings is resident. A `.text` page is put down to the module of the symbols it
holds (a Swift symbol's module is the first name of its mangling; C symbols by prefix).
"""
import bisect, collections, re, struct, subprocess, sys

def sections(binary):
    out = subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)", line)
        if m:
            found.append((int(m.group(3), 16), int(m.group(4), 16), m.group(1), int(m.group(2), 16)))  # offset, size, name, address
    return found

def module(symbol):
    m = re.match(r"\$s(\d+)", symbol)
    if m:
        start = 2 + len(m.group(1))
        return symbol[start:start + int(m.group(1))]
    for prefix, name in (("CNIOBoringSSL", "BoringSSL"), ("sqlite3", "sqlite"), ("c_nio", "CNIO"), ("CNIO", "CNIO"), ("yaml_", "libyaml")):
        if symbol.startswith(prefix):
            return name
    return "other"

def main():
    pid, binary = int(sys.argv[1]), sys.argv[2]
    resident = []
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for line in maps:
            fields = line.split()
            if len(fields) < 6 or fields[5] != binary:
                continue
            low, high = (int(x, 16) for x in fields[0].split("-"))
            offset = int(fields[2], 16)
            pagemap.seek(low // 4096 * 8)
            entries = pagemap.read((high - low) // 4096 * 8)
            for i in range(0, len(entries), 8):
                if struct.unpack("<Q", entries[i:i + 8])[0] >> 63:
                    resident.append(offset + i // 8 * 4096)
    secs = sections(binary)
    symbols = []
    for line in subprocess.run(["nm", "--defined-only", "-n", binary], capture_output=True, text=True).stdout.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] in "tTwW":
            symbols.append((int(parts[0], 16), parts[2]))
    addresses = [s[0] for s in symbols]
    by_section, by_module = collections.Counter(), collections.Counter()
    for page in resident:
        sec = next((s for s in secs if s[0] <= page < s[0] + max(s[1], 1)), None)
        name = sec[2] if sec else "(no section)"
        by_section[name] += 4
        if name == ".text":
            address = sec[3] + (page - sec[0])
            lo = max(bisect.bisect_right(addresses, address) - 1, 0)
            hi = bisect.bisect_right(addresses, address + 4096)
            modules = collections.Counter(module(symbols[k][1]) for k in range(lo, hi))
            by_module[modules.most_common(1)[0][0] if modules else "other"] += 4
    print(f"resident pages of {binary}: {4 * len(resident)} KiB")
    for name, kib in by_section.most_common(12):
        print(f"  {kib:7d} KiB  {name}")
    print(".text by module:")
    for name, kib in by_module.most_common(15):
        print(f"  {kib:7d} KiB  {name}")

if __name__ == "__main__":
    main()
