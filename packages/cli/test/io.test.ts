import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeIoError, nodeIo, useColor, writeFileAtomic } from '../src/io.js';
import { main } from '../src/main.js';
import { memoryIo } from './memory-io.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kapspec-io-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('creates a file and leaves no temporary file behind', async () => {
    const file = join(dir, 'a.kap');
    await writeFileAtomic(file, 'hello\n');
    expect(readFileSync(file, 'utf8')).toBe('hello\n');
    expect(readdirSync(dir)).toEqual(['a.kap']);
  });

  it('replaces a file and keeps its permission bits', async () => {
    const file = join(dir, 'a.kap');
    writeFileSync(file, 'old');
    chmodSync(file, 0o640);
    await writeFileAtomic(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(['a.kap']);
  });

  it('fails cleanly into a missing directory, leaving nothing behind', async () => {
    await expect(writeFileAtomic(join(dir, 'no', 'a.kap'), 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('fails on a directory path and removes its temporary file', async () => {
    mkdirSync(join(dir, 'sub'));
    await expect(writeFileAtomic(join(dir, 'sub'), 'x')).rejects.toHaveProperty('code');
    expect(readdirSync(dir)).toEqual(['sub']);
  });
});

describe('nodeIo', () => {
  it('reads files and reports errno codes', async () => {
    const io = nodeIo();
    const file = join(dir, 'a.kap');
    writeFileSync(file, 'text é');
    expect(await io.readFile(file)).toBe('text é');
    await expect(io.readFile(join(dir, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(io.readFile(dir)).rejects.toMatchObject({ code: 'EISDIR' });
  });
});

describe('describeIoError', () => {
  it.each([
    ['ENOENT', 'no such file'],
    ['EISDIR', 'is a directory'],
    ['EACCES', 'permission denied'],
    ['EPERM', 'permission denied'],
  ])('%s → %s', (code, text) => {
    expect(describeIoError(Object.assign(new Error('x'), { code }))).toBe(text);
  });

  it('falls back to the message and the code', () => {
    expect(describeIoError(Object.assign(new Error('odd failure'), { code: 'EWHAT' }))).toBe('odd failure (EWHAT)');
    expect(describeIoError('plain')).toBe('plain');
  });
});

describe('useColor', () => {
  it('only on a TTY, never with NO_COLOR (even empty)', () => {
    const tty = { write: () => undefined, isTTY: true };
    const pipe = { write: () => undefined, isTTY: false };
    expect(useColor(memoryIo().io, tty)).toBe(true);
    expect(useColor(memoryIo().io, pipe)).toBe(false);
    expect(useColor(memoryIo({ env: { NO_COLOR: '1' } }).io, tty)).toBe(false);
    expect(useColor(memoryIo({ env: { NO_COLOR: '' } }).io, tty)).toBe(false);
  });
});

describe('internal errors', () => {
  it('a bug is reported in one line without a stack, exit 2', async () => {
    const m = memoryIo({ files: { 'a.kap': 'protocol "x" {}' } });
    const io = { ...m.io, readFile: () => Promise.resolve('protocol "x" {}'), stdout: { isTTY: false, write: () => { throw new Error('boom'); } } };
    const code = await main(['check', 'a.kap'], io);
    expect(code).toBe(2);
    expect(m.stderr()).toBe(
      'kapspec: internal error: boom\nThis is a bug in kapspec; please report it (set KAPSPEC_DEBUG=1 to see the stack trace).\n',
    );
  });

  it('KAPSPEC_DEBUG shows the stack', async () => {
    const m = memoryIo({ env: { KAPSPEC_DEBUG: '1' } });
    const io = { ...m.io, stdout: { isTTY: false, write: () => { throw new Error('boom'); } } };
    await main(['--version'], io);
    expect(m.stderr()).toMatch(/^kapspec: internal error: boom\nError: boom\n\s+at /);
  });
});
