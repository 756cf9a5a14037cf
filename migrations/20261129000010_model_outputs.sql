-- What the models add to the serving tables: comment sentiment per influencer (with its weekly
-- trend) and per post, and the follower forecast with its intervals. JSON, because the API
-- hands them over whole and their shape follows the model outputs in metrics.md.
ALTER TABLE serving.influencers ADD COLUMN sentiment JSONB, ADD COLUMN forecast JSONB;
ALTER TABLE serving.posts ADD COLUMN sentiment JSONB;
