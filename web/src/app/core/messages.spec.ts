import { MESSAGES } from './messages';

describe('messages', () => {
  it('exist in both languages for every key', () => {
    const pt = Object.keys(MESSAGES['pt-BR']).sort();
    const en = Object.keys(MESSAGES.en).sort();
    expect(pt.filter((k) => !en.includes(k))).toEqual([]);
    expect(en.filter((k) => !pt.includes(k))).toEqual([]);
  });

  it('use the same placeholders in both languages', () => {
    const placeholders = (text: string) => (text.match(/\{\w+\}/g) ?? []).sort().join();
    for (const key of Object.keys(MESSAGES.en)) {
      expect(placeholders(MESSAGES['pt-BR'][key]), key).toBe(placeholders(MESSAGES.en[key]));
    }
  });
});
