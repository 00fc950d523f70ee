import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/**
 * Reads one line from stdin: with a terminal, prompts on stderr and does not echo what is typed;
 * from a pipe (`--password-stdin`), takes the first line. Secrets never come from argv, where
 * `ps` and shell history would keep them.
 */
export function readSecretLine(prompt: string): Promise<string> {
  const tty = process.stdin.isTTY === true;
  let muted = false;
  const output = new Writable({
    write(chunk, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: tty });
  return new Promise((resolve, reject) => {
    let answered = false;
    rl.on('line', (line) => {
      answered = true;
      rl.close();
      if (tty) process.stderr.write('\n');
      resolve(line);
    });
    rl.on('close', () => {
      if (!answered) reject(Object.assign(new Error('no password given on stdin'), { code: 'WK_CLI_NO_INPUT' }));
    });
    if (tty) {
      process.stderr.write(prompt);
      muted = true;
    }
  });
}
