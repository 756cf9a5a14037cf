import { explain } from './explain';

describe('score explanations', () => {
  it('render each phrasing of the pipeline in Portuguese', () => {
    expect(explain('growth in the top 17% of micro fitness creators on Instagram', 'pt-BR')).toBe('crescimento entre os 17% melhores dos criadores micro de fitness no Instagram');
    expect(explain('reach in the bottom 5% of fitness creators on TikTok', 'pt-BR')).toBe('alcance entre os 5% piores dos criadores fitness no TikTok');
    expect(explain('engagement in the top 3% of micro+mid creators on Facebook', 'pt-BR')).toBe('engajamento entre os 3% melhores dos criadores micro/mid no Facebook');
    expect(explain('no open authenticity flags', 'pt-BR')).toBe('nenhum alerta de autenticidade em aberto');
    expect(explain('authenticity lowered to 60 of 100 by open flags', 'pt-BR')).toBe('autenticidade reduzida a 60 de 100 por alertas em aberto');
  });

  it('keep English and unknown phrasings as they are', () => {
    expect(explain('growth in the top 17% of micro fitness creators on Instagram', 'en')).toBe('growth in the top 17% of micro fitness creators on Instagram');
    expect(explain('something new', 'pt-BR')).toBe('something new');
  });
});
