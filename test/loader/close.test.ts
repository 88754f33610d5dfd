/**
 * Collection.close unloads the object's programs from the runtime (their fds and ids no longer
 * resolve, and the runtime stops holding their compiled code), as closing a libbpf object
 * drops the kernel's programs, except programs a prog array still holds: those stay reachable
 * by tail calls, which keep working.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Runtime } from '../../src/core/runtime/runtime.js';
import { openObject, loadObject } from '../../src/core/runtime/index.js';
import { mapUpdateElem } from '../../src/core/runtime/commands.js';

const open = (path: string) => openObject(new Uint8Array(readFileSync(path)));

test('close unloads the programs of the collection', () => {
  const rt = new Runtime();
  const coll = loadObject(rt, open('test/fixtures/c/xdp_maps.o').spec);
  const fd = coll.programs.xdp_count.fd;
  const id = rt.progs.fd(fd)!.id;
  coll.close();
  assert.equal(rt.progs.fd(fd), undefined);
  assert.equal(rt.progs.id(id), undefined);
  assert.equal(rt.progs.all().length, 0);
  // a program fd that is gone cannot be stored in a prog array any more
  const again = loadObject(rt, open('test/loader/fixtures/tail_calls.o').spec);
  const key = new Uint8Array(4), value = new Uint8Array(new Uint32Array([fd]).buffer);
  assert.throws(() => mapUpdateElem(rt, again.fds.get('jumps')!, key, value), /EBADF|not a program/);
});

test('programs a prog array holds stay loaded after close, and tail calls into them still run', () => {
  const rt = new Runtime();
  const coll = loadObject(rt, open('test/loader/fixtures/tail_calls.o').spec);
  const fds = Object.fromEntries(Object.entries(coll.programs).map(([n, p]) => [n, p.fd]));
  const dispatch = coll.programs.dispatch;
  coll.close();
  assert.equal(rt.progs.fd(fds.dispatch), undefined, 'dispatch is in no prog array');
  assert.ok(rt.progs.fd(fds.step_one) && rt.progs.fd(fds.step_two), 'step_one and step_two are held by "jumps"');
  // byte 1: dispatch tail-calls step_two, which tail-calls step_one (XDP_DROP)
  assert.equal(dispatch.run({ data: new Uint8Array([1, 0, 0, 0]) }).retval, 1n);
});
