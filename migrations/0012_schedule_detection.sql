-- Per-schedule change detection settings: the minimum effect by metric and
-- the metrics where higher is better, as JSON
-- ({"min_effect": {"itl_ms": 0.03}, "higher_is_better": ["score"]}).
ALTER TABLE schedules ADD COLUMN detection_json TEXT NOT NULL DEFAULT '{}';
