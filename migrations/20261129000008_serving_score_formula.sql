-- Which formula variant `serving.influencers.score` holds (the profile shows its breakdown
-- first; the others stay in `scores`).
ALTER TABLE serving.influencers ADD COLUMN score_formula text;
