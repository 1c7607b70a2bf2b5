// mms serve holds V8's heap growth to 1.5 × the live heap (issue 13: peak RSS at most 300 MB whatever the tenant's
// size; the bench's tenant-wide rows print it), unless the operator set --heap-growing-percent: that is left alone.
// Its effect is measured by the bench (peak RSS of the worker process), not here: V8's own growth choice depends on
// how fast it collects against how fast the program allocates, which a small test process does not reproduce.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { HEAP_GROWING_PERCENT, limitHeapGrowth, SERVE_NODE_OPTIONS } from '../src/cli/serve.js';

describe('mms serve: V8 heap growth', () => {
  it('is limited unless the operator gave --heap-growing-percent as a node option or in NODE_OPTIONS', () => {
    assert.equal(limitHeapGrowth(['--heap-growing-percent=0']), false);
    assert.equal(limitHeapGrowth(['--enable-source-maps', '--heap_growing_percent=20']), false);
    assert.equal(limitHeapGrowth(['--max-old-space-size=512']), true);
    assert.ok(HEAP_GROWING_PERCENT > 0 && HEAP_GROWING_PERCENT <= 100);
  });

  it('is started with the young-generation size it was measured with, by npm start and by the systemd unit', () => {
    const root = new URL('..', import.meta.url);
    const start = (JSON.parse(fs.readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> }).scripts.start ?? '';
    const unit = fs.readFileSync(new URL('docs/running-as-a-service.md', root), 'utf8').match(/^ExecStart=(.*)$/m)?.[1] ?? '';
    for (const command of [start, unit]) {
      const words = command.split(/\s+/);
      const serveAt = words.indexOf('bin/mms.js');
      assert.ok(serveAt > 0 && words[serveAt + 1] === 'serve', command);
      // Node options go before the script: after it they would be the script's own arguments.
      for (const option of SERVE_NODE_OPTIONS) assert.ok(words.slice(0, serveAt).includes(option), `${command} lacks ${option}`);
    }
  });
});
