"""The recommendation engine: feature space, text encoder, index back ends, moods, ranking."""
