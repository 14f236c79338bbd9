/**
 * Stand-ins for a terminal's streams: what ink writes to `stdout` is kept as
 * text; `stdin` never has a key. For driving the terminal views (and the
 * commands that show them) without a real terminal; the tmux tests use one.
 */
import { EventEmitter } from 'node:events';
import type { Terminal } from '../src/io.js';

export class FakeOut extends EventEmitter {
  readonly columns = 100;
  readonly rows = 40;
  readonly isTTY = false;
  text = '';
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

export class FakeIn extends EventEmitter {
  readonly isTTY = false;
  read(): null {
    return null;
  }
  setEncoding(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

/** A terminal whose screen output is `stdout.text`. */
export function fakeTerminal(): { terminal: Terminal; stdout: FakeOut; stderr: FakeOut } {
  const stdout = new FakeOut();
  const stderr = new FakeOut();
  const terminal: Terminal = { stdout: stdout as unknown as NodeJS.WriteStream, stderr: stderr as unknown as NodeJS.WriteStream, stdin: new FakeIn() as unknown as NodeJS.ReadStream };
  return { terminal, stdout, stderr };
}
