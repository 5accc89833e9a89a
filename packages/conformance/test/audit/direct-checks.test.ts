import { describe, expect, it } from 'vitest';
import { runCheck } from './harness.js';
import { healthy, variantCapabilities } from './variant.js';
import { ALL_VARIANTS } from './variants/index.js';

describe('audit: every broken variant is really broken (direct check), and the healthy memory adapter passes it', () => {
  it('has unique ids and at least 45 variants', () => {
    const ids = ALL_VARIANTS.map((v) => v.id);
    expect(new Set(ids).size, `duplicate variant ids in ${ids.join(', ')}`).toBe(ids.length);
    expect(ids.length, 'number of audited variants').toBeGreaterThanOrEqual(45);
  });

  for (const variant of ALL_VARIANTS) {
    it.concurrent(`${variant.id}: ${variant.bug}`, async () => {
      const caps = variantCapabilities(variant);
      const onHealthy = await runCheck(healthy, caps, variant.check);
      expect(onHealthy, `direct check of ${variant.id} must pass on the healthy memory adapter`).toBeUndefined();
      const onVariant = await runCheck(variant.make, caps, variant.check);
      expect(onVariant, `direct check of ${variant.id} must fail on the variant (the bug must be present)`).toBeTypeOf('string');
    });
  }
});
