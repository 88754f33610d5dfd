// Library use from Node: assemble, run in both engines, then step through with the debugger.
// Run after the README's set-up: node examples/lib/run-program.mjs
import { assemble, disassemble, createVmContext, runRaw, interpreter, Debugger } from '../../dist/src/index.js';
import { jit } from '../../dist/src/core/jit/index.js';

const prog = assemble(`
    r0 = 0
    r3 = 0
loop:
    if r3 >= r2 goto done
    r4 = r1
    r4 += r3
    r5 = *(u8 *)(r4 + 0)
    r0 += r5
    r3 += 1
    goto loop
done:
    exit
`);
const data = new Uint8Array([1, 2, 3, 4]);
for (const engine of [interpreter, jit]) {
  const res = runRaw(engine, prog, data);
  console.log(`${engine.name}: r0 = ${res.r0}`);
}

// Step debugger: break at the loop head, watch r0 grow.
const dbg = new Debugger(prog, createVmContext());
const ctx = dbg.program.ctx;
const addr = ctx.space.alloc(data.length);
ctx.space.write(addr, data);
dbg.breakpoints.add(2);
dbg.start({ args: [BigInt(addr), BigInt(data.length)], regions: [{ start: addr, end: addr + 4, perm: 3, name: 'data' }] });
while (dbg.continue() === 'paused') console.log(`pc ${dbg.pc}: ${disassemble(prog)[dbg.pc]}  r0=${dbg.reg(0)} r3=${dbg.reg(3)}`);
console.log(`${dbg.status}: r0 = ${dbg.result}`);
