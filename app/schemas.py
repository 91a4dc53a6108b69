"""Request bodies and query strings, validated by quart-schema and shown in the OpenAPI."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from recsys.actions import Action

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$"


class _NoNul(BaseModel):
    """PostgreSQL text cannot hold NUL: refuse it as bad input (422) instead of failing later (500)."""

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str) and "\x00" in value and info.field_name != "password":
            raise ValueError("must not contain NUL characters")
        return value


class Strict(_NoNul):
    model_config = ConfigDict(extra="forbid", strict=True)


class Credentials(Strict):
    username: str = Field(min_length=3, max_length=32, pattern=USERNAME_PATTERN,
                          description="3-32 letters, digits, '_', '.', '-'; starts with a letter or digit")
    password: str = Field(min_length=8, max_length=128, description="8-128 characters")

    @field_validator("password")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("password must not be blank")
        return value


class MoodBody(Strict):
    mood: str | None = Field(None, min_length=1, max_length=40)
    text: str | None = Field(None, min_length=1, max_length=200)
    energy: float | None = Field(None, ge=0.0, le=1.0)
    valence: float | None = Field(None, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _one_of(self) -> MoodBody:
        if self.mood is not None and self.text is not None:
            raise ValueError("give either 'mood' (a preset id) or 'text' (free words), not both")
        pad_only = self.energy is not None and self.valence is not None
        if self.mood is None and self.text is None and not pad_only:
            raise ValueError("give 'mood' (a preset id), 'text' (free words), or both 'energy' and 'valence'")
        if self.text is not None and not self.text.strip():
            raise ValueError("text must not be blank")
        return self


class FeedbackBody(Strict):
    track_id: int = Field(ge=1, le=2**63 - 1)
    action: Action
    position_ms: int | None = Field(None, ge=0, le=24 * 3600 * 1000)
    ref: str | None = Field(None, min_length=1, max_length=64, description="client reference for dedupe")


class QuickMixBody(Strict):
    mood: str | None = Field(None, min_length=1, max_length=40)
    text: str | None = Field(None, min_length=1, max_length=200)
    energy: float | None = Field(None, ge=0.0, le=1.0)
    valence: float | None = Field(None, ge=0.0, le=1.0)
    seed_track_ids: list[int] = Field(default_factory=list, max_length=20)
    size: int = Field(20, ge=10, le=100)
    genre: str | None = Field(None, max_length=60)
    explicit: bool | None = None
    year_min: int | None = Field(None, ge=1000, le=3000)
    year_max: int | None = Field(None, ge=1000, le=3000)


class RecommendationQuery(_NoNul):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(20, ge=1, le=100)
    mood: str | None = Field(None, min_length=1, max_length=40)
    text: str | None = Field(None, min_length=1, max_length=200)
    genre: str | None = Field(None, max_length=60)
    explicit: bool | None = None
    year_min: int | None = Field(None, ge=1000, le=3000)
    year_max: int | None = Field(None, ge=1000, le=3000)
    energy: float | None = Field(None, ge=0.0, le=1.0)
    valence: float | None = Field(None, ge=0.0, le=1.0)


class SearchQuery(_NoNul):
    model_config = ConfigDict(extra="forbid")
    q: str = Field(min_length=1, max_length=200)
    limit: int = Field(20, ge=1, le=100)


class LimitQuery(_NoNul):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(20, ge=1, le=100)


class CoverQuery(_NoNul):
    model_config = ConfigDict(extra="forbid")
    # Pixels of the longer side, asked of the library server; bounded so that nobody makes it
    # render a poster-sized image per request. Absent: the server's own size.
    size: int | None = Field(None, ge=16, le=1200)


class HistoryQuery(_NoNul):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(50, ge=1, le=200)
    before: int | None = Field(None, ge=1, le=2**63 - 1)


class SettingsBody(Strict):
    include_unplayable: bool = Field(
        description="queues and Quick Mix also hold tracks that cannot play on this server"
    )


class TrackPageQuery(_NoNul):
    model_config = ConfigDict(extra="forbid")
    after: int = Field(0, ge=0, le=2**63 - 1, description="the last id of the previous page")
    limit: int = Field(100, ge=1, le=500)
    playable: bool = Field(False, description="only tracks that can play on this server")


class GroupCreateBody(Strict):
    name: str | None = Field(None, max_length=60)
    mood: str | None = Field(None, min_length=1, max_length=40)
    text: str | None = Field(None, min_length=1, max_length=200)
    energy: float | None = Field(None, ge=0.0, le=1.0)
    valence: float | None = Field(None, ge=0.0, le=1.0)
    guest_controls: bool = False

    @model_validator(mode="after")
    def _one_mood(self) -> GroupCreateBody:
        if self.mood is not None and self.text is not None:
            raise ValueError("give either 'mood' (a preset id) or 'text' (free words), not both")
        return self


class GroupJoinBody(Strict):
    code: str = Field(min_length=1, max_length=20)


class GroupPatchBody(Strict):
    name: str | None = Field(None, min_length=1, max_length=60)
    guest_controls: bool | None = None


class GroupHostBody(Strict):
    user_id: int = Field(ge=1, le=2**63 - 1)
