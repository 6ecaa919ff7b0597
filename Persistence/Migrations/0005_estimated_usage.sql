-- Whether an answer's token counts are (partly) estimated: cancelled, interrupted or taken-over answers whose provider
-- never reported their usage are charged an estimate (4 characters a token) instead of nothing.
ALTER TABLE messages
    ADD COLUMN usage_estimated boolean NOT NULL DEFAULT false;
