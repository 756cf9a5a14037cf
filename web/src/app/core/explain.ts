// The pipeline writes the Social Score's strengths and weaknesses in English, in a fixed set
// of phrasings (sql/gold/social_score.sql); this renders them in the interface language.

import { Lang } from './format';

const COMPONENTS_PT: Record<string, string> = {
  engagement: 'engajamento', reach: 'alcance', growth: 'crescimento', sentiment: 'sentimento', authenticity: 'autenticidade',
};
const PLATFORMS: Record<string, string> = { Instagram: 'Instagram', TikTok: 'TikTok', Facebook: 'Facebook' };

/** "micro fitness creators on Instagram" → "criadores micro de fitness no Instagram". */
function cohortWords(words: string): string {
  const match = /^(\S+)(?: (.+))? creators on (.+)$/.exec(words);
  if (!match) return words;
  const [, tier, niche, platform] = match;
  return `criadores ${tier.replace(/\+/g, '/')}${niche ? ` de ${niche}` : ''} no ${PLATFORMS[platform] ?? platform}`;
}

export function explain(text: string, lang: Lang): string {
  if (lang === 'en') return text;
  if (text === 'no open authenticity flags') return 'nenhum alerta de autenticidade em aberto';
  let match = /^authenticity lowered to (\d+) of 100 by open flags$/.exec(text);
  if (match) return `autenticidade reduzida a ${match[1]} de 100 por alertas em aberto`;
  match = /^(\w+) in the (top|bottom) (\d+)% of (.+)$/.exec(text);
  if (match) {
    const [, component, side, n, words] = match;
    const name = COMPONENTS_PT[component] ?? component;
    const place = side === 'top' ? `entre os ${n}% melhores` : `entre os ${n}% piores`;
    return `${name} ${place} dos ${cohortWords(words)}`;
  }
  return text;
}
