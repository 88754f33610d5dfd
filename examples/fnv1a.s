# FNV-1a (32-bit) over the data buffer. r1 = data, r2 = length (tsbpf prog run convention).
    w0 = -2128831035          # offset basis 0x811c9dc5
    r3 = 0
loop:
    if r3 >= r2 goto done
    r4 = r1
    r4 += r3
    r5 = *(u8 *)(r4 + 0)
    w0 ^= w5
    w0 *= 16777619            # FNV prime
    r3 += 1
    goto loop
done:
    exit
