// Bigger chaos than the compliance suite's own: more clones, more rounds, clones stopped and
// killed together, and partitions. Ours, not part of @m-ld/m-ld-test; it drives the same
// orchestrator with the suite's own `ChaosTest`, and checks what the suite checks: every clone
// sees every other finish, then all describe the same entities.
//
// Run with `cargo xtask test-conformance [--mixed] ./1` (sizes: MLD_CHAOS_CLONES, MLD_CHAOS_ROUNDS).
const { dirname, join } = require('path');
// The package exports only its runner: reach the chaos module by its path.
const suite = dirname(require.resolve('@m-ld/m-ld-test/compliance'));
const {
  ChaosTest, sleep, randomInt, updateRandomEntityProperty
} = require(join(suite, '2-chaos', 'chaos'));

const CLONES = Number(process.env.MLD_CHAOS_CLONES ?? 8);
const ROUNDS = Number(process.env.MLD_CHAOS_ROUNDS ?? 40);
const TIMEOUT = 5 * 60 * 1000;

describe('Bigger chaos', () => {
  let chaos;

  async function setUp(start = true) {
    chaos = await new ChaosTest(CLONES, ROUNDS).setup(start);
    // As the suite: a round mostly longer than a transaction, sometimes shorter.
    chaos.meanRoundDurationMillis = chaos.timings.transact * 1.5;
  }

  afterEach(async () => chaos && chaos.tearDown());

  it('converges fields with every clone writing', async () => {
    await setUp();
    await chaos.test(clone => updateRandomEntityProperty(clone, 16, 4, 4));
  }, TIMEOUT);

  it('converges with several clones stopped or killed at once', async () => {
    await setUp();
    let down = 0;
    await chaos.test(async (clone, round, i) => {
      // Clone 0 always runs; the others go down now and then, several at a time.
      if (i > 0 && round < ROUNDS - 1 && !randomInt(6) && down < CLONES - 2) {
        down++;
        if (randomInt(2))
          await clone.kill();
        else
          await clone.stop();
        await sleep(Math.random() * chaos.timings.startClone * 2);
        await clone.start();
        down--;
      }
      return updateRandomEntityProperty(clone);
    });
  }, TIMEOUT);

  it('converges with clones partitioned and healed', async () => {
    if (process.env.MLD_ENGINES !== 'rust')
      // With `--js-only` too: a m-ld-js 0.10 clone cut off from the broker right after a
      // write may never answer its next read (docs/compliance.md, "m-ld-js defects").
      return pending('m-ld-js clones hang reads after a partition');
    await setUp();
    const partitioned = new Set;
    await chaos.test(async (clone, round) => {
      // A clone writes while cut off, and is healed a round or few later; all are healed
      // before their last round, so that everyone can see everyone finish.
      if (partitioned.has(clone.id)) {
        if (round >= ROUNDS - 2 || randomInt(3) === 0) {
          await clone.partition(false);
          partitioned.delete(clone.id);
        }
      } else if (round < ROUNDS - 2 && !randomInt(8)) {
        await clone.partition(true);
        partitioned.add(clone.id);
      }
      return updateRandomEntityProperty(clone);
    });
  }, TIMEOUT);

  it('converges with clones joining from snapshots during the chaos', async () => {
    await setUp(false);
    await chaos.test(async (clone, round, i) => {
      // Clone i joins after i rounds, while the others write.
      if (i > 0 && round === i)
        await clone.start();
      else
        await sleep(chaos.timings.startClone * Math.random());
      if (clone.running)
        return updateRandomEntityProperty(clone);
    });
  }, TIMEOUT);
});
