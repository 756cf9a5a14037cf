// What every number on screen means: unit, formula id and window, after
// shared/spec/metrics.md. Shown on hover/focus next to each value.

import { Lang } from './format';

export type Unit = 'percent' | 'count' | 'usd' | 'per_week' | 'score' | 'followers_per_day' | 'days' | 'penalty_points' | 'points';

export interface MetricDefinition {
  unit: Unit;
  /** The formula id of metrics.md (or the column name when it has none). */
  formula: string;
  text: Record<Lang, string>;
}

const d = (unit: Unit, formula: string, pt: string, en: string): MetricDefinition => ({ unit, formula, text: { 'pt-BR': pt, en } });

export const METRICS: Record<string, MetricDefinition> = {
  followers: d('count', 'followers', 'Seguidores no último dia coletado.', 'Followers on the last collected day.'),
  engagement_rate: d('percent', 'engagement_rate',
    'Taxa de engajamento usada no Social Score: er_views para contas de vídeo, senão er_followers_median.',
    'The engagement rate the Social Score uses: er_views for video-first accounts, else er_followers_median.'),
  er_followers_mean: d('percent', 'er_followers_mean',
    '(curtidas + comentários) ÷ seguidores na publicação, média dos posts dos últimos 90 dias, sem fixados, mínimo 5 posts.',
    '(likes + comments) ÷ followers at publish, mean over posts of the last 90 days, pinned excluded, at least 5 posts.'),
  er_followers_median: d('percent', 'er_followers_median',
    'Mediana de (curtidas + comentários) ÷ seguidores na publicação, posts dos últimos 90 dias, mínimo 5 posts.',
    'Median over posts of (likes + comments) ÷ followers at publish, posts of the last 90 days, at least 5 posts.'),
  er_followers_full: d('percent', 'er_followers_full',
    '(curtidas + comentários + compartilhamentos + salvamentos) ÷ seguidores na publicação, média, últimos 90 dias.',
    '(likes + comments + shares + saves) ÷ followers at publish, mean, last 90 days.'),
  er_views: d('percent', 'er_views',
    '(curtidas + comentários + compartilhamentos) ÷ visualizações, média dos últimos 30 vídeos.',
    '(likes + comments + shares) ÷ views, mean of the last 30 videos.'),
  er_reach: d('percent', 'er_reach',
    '(curtidas + comentários + compartilhamentos + salvamentos) ÷ alcance, média; só com insights da conta conectada.',
    '(likes + comments + shares + saves) ÷ reach, mean; needs the connected account\'s insights.'),
  er_daily: d('percent', 'er_daily', 'Engajamento dos posts do dia ÷ seguidores do dia.', 'Engagement of the day\'s posts ÷ the day\'s followers.'),
  growth_pct_7d: d('percent', 'growth_pct_7d', '(seguidores hoje − há 7 dias) ÷ seguidores há 7 dias.', '(followers today − 7 days ago) ÷ followers 7 days ago.'),
  growth_pct_30d: d('percent', 'growth_pct_30d', '(seguidores hoje − há 30 dias) ÷ seguidores há 30 dias.', '(followers today − 30 days ago) ÷ followers 30 days ago.'),
  growth_pct_90d: d('percent', 'growth_pct_90d', '(seguidores hoje − há 90 dias) ÷ seguidores há 90 dias.', '(followers today − 90 days ago) ÷ followers 90 days ago.'),
  growth_pct_30d_without_spikes: d('percent', 'growth_pct_30d_without_spikes',
    'Crescimento em 30 dias sem os picos de seguidores não explicados (entrada do componente crescimento).',
    '30-day growth without the unexplained follower spikes (the growth component\'s input).'),
  open_flag_penalties: d('penalty_points', 'open_flag_penalties',
    'Soma das penalidades dos alertas em aberto (pico 25, queda após pico 25, número redondo 15, engajamento fora do padrão 20, seguir/deixar de seguir 10, comentários duplicados 25); autenticidade = 100 − soma, mínimo 0.',
    'Sum of the open flags\' penalties (spike 25, drop after spike 25, round number 15, engagement outlier 20, following churn 10, comment duplication 25); authenticity = 100 − sum, floor 0.'),
  velocity_30d: d('followers_per_day', 'velocity_30d', 'Δ seguidores ÷ dias, nos últimos 30 dias.', 'Δ followers ÷ days over the last 30 days.'),
  engagement_growth_90d: d('percent', 'engagement_growth_90d',
    'Engajamento médio dos últimos 90 dias ÷ o dos dias 91–180 − 1.', 'Mean engagements of the last 90 days ÷ those of days 91–180 − 1.'),
  avg_likes: d('count', 'avg_likes', 'Média de curtidas por post, últimos 90 dias.', 'Mean likes per post, last 90 days.'),
  avg_comments: d('count', 'avg_comments', 'Média de comentários por post, últimos 90 dias.', 'Mean comments per post, last 90 days.'),
  avg_views: d('count', 'avg_views', 'Média de visualizações por vídeo, últimos 30 vídeos.', 'Mean views per video, last 30 videos.'),
  median_likes: d('count', 'median_likes', 'Mediana de curtidas por post, últimos 90 dias.', 'Median likes per post, last 90 days.'),
  posts_per_week: d('per_week', 'posts_per_week', 'Posts por semana nos últimos 90 dias.', 'Posts per week over the last 90 days.'),
  est_reach_per_post: d('count', 'est_reach_per_post',
    'Alcance estimado por post: média de visualizações para vídeo, senão seguidores × taxa de alcance do tier.',
    'Estimated reach per post: mean views for video, else followers × the tier\'s reach rate.'),
  reach_rate: d('percent', 'reach_rate', 'Alcance ÷ seguidores (só conta conectada).', 'Reach ÷ followers (connected accounts only).'),
  consistency_13w: d('percent', 'consistency_13w', 'Parcela das últimas 13 semanas com ao menos um post.', 'Share of the last 13 weeks with at least one post.'),
  post_gap_stddev_days: d('days', 'post_gap_stddev_days', 'Desvio padrão dos intervalos entre posts, em dias.', 'Standard deviation of the gaps between posts, in days.'),
  emv_usd: d('usd', 'emv_usd', 'Valor de mídia estimado = CPM × impressões estimadas ÷ 1000 (CPM padrão US$ 6,50).',
    'Earned media value = CPM × estimated impressions ÷ 1000 (default CPM 6.50 USD).'),
  sponsored_share: d('percent', 'sponsored_share', 'Parcela dos posts com publicidade declarada.', 'Share of posts with a sponsorship disclosure.'),
  er_sponsored: d('percent', 'er_sponsored', 'ER dos posts patrocinados.', 'ER of sponsored posts.'),
  er_organic: d('percent', 'er_organic', 'ER dos posts orgânicos.', 'ER of organic posts.'),
  score: d('score', 'social_score/v1',
    'Social Score v1 (0–100): Σ peso × percentil no coorte de engajamento (0,30), alcance (0,20), crescimento (0,20), sentimento (0,15) e autenticidade (0,15).',
    'Social Score v1 (0–100): Σ weight × cohort percentile of engagement (0.30), reach (0.20), growth (0.20), sentiment (0.15) and authenticity (0.15).'),
  percentile: d('points', 'percentile',
    'Percentil no coorte (0–100): (membros abaixo + ½ × empatados) ÷ membros × 100.',
    'Percentile within the cohort (0–100): (members below + ½ × ties) ÷ members × 100.'),
  weight: d('percent', 'weight', 'Peso do componente na fórmula social_score/v1.', 'The component\'s weight in formula social_score/v1.'),
  contribution: d('points', 'contribution',
    'Pontos que o componente soma ao score: peso × percentil ÷ soma dos pesos com dados.',
    'Points the component adds to the score: weight × percentile ÷ sum of the weights with data.'),
  likes: d('count', 'likes', 'Curtidas do post na última coleta.', 'The post\'s likes at the last collection.'),
  comments: d('count', 'comments', 'Comentários do post na última coleta.', 'The post\'s comments at the last collection.'),
  views: d('count', 'views', 'Visualizações do post na última coleta (vídeos).', 'The post\'s views at the last collection (videos).'),
  net_sentiment: d('percent', 'net_sentiment', '(positivos − negativos) ÷ total de comentários, últimos 90 dias, mínimo 30.',
    '(positive − negative) ÷ all comments, last 90 days, at least 30.'),
};

export function definition(id: string): MetricDefinition {
  return METRICS[id] ?? d('count', id, id, id);
}
