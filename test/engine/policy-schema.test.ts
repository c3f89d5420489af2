// The loader compiles the PortPolicy schema without checking it against the meta-schema (a
// start-up cost of every CLI run); this is where that check happens instead.
import { Ajv } from 'ajv';
import { PORT_POLICY_SCHEMA } from '../../src/engine/policy/schema.js';

describe('PortPolicy schema', () => {
  it('is a valid JSON Schema (draft-07, the meta-schema Ajv checks by default)', () => {
    const ajv = new Ajv({ strict: false });
    expect(ajv.validateSchema(PORT_POLICY_SCHEMA)).toBe(true);
    expect(ajv.errors ?? null).toBeNull();
  });

  it('the meta-schema check can fail', () => {
    const ajv = new Ajv({ strict: false });
    expect(ajv.validateSchema({ ...PORT_POLICY_SCHEMA, type: 'no-such-type' })).toBe(false);
  });
});
