; ubpf mnemonic syntax: sum of the 64-bit words of the data buffer
    mov %r0, 0
    mov %r3, 0
loop:
    jge %r3, %r2, done
    mov %r4, %r1
    add %r4, %r3
    ldxdw %r5, [%r4+0]
    add %r0, %r5
    add %r3, 8
    ja loop
done:
    exit
