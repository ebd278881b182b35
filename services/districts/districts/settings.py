"""Settings of the districts service (environment variables by upper-case field name)."""

from __future__ import annotations

from pydantic import Field

from shared.settings import EVENT_TOPICS, SERVICE_PORTS, ServiceSettings


class DistrictsSettings(ServiceSettings):
    """The topics it reads and writes, how often it refreshes, the vitality targets, the rebuild's timing."""

    service_name: str = "districts"
    port: int = SERVICE_PORTS["districts"]

    markets_topic: str = EVENT_TOPICS["markets"]
    shops_topic: str = EVENT_TOPICS["shops"]
    districts_topic: str = EVENT_TOPICS["districts"]
    consumer_group: str = "districts"

    snapshot_interval_s: float = Field(default=300.0, gt=0, description="time-series sample of every district")
    sample_every_s: float = Field(
        default=60.0,
        ge=0,
        description="shortest time between two samples of an area that moved (its last move in between is sampled later)",
    )
    recount_interval_s: float = Field(
        default=600.0, gt=0, description="check of the incremental KPIs against a recount from the entities"
    )
    refresh_idle_poll_s: float = Field(default=1.0, gt=0, description="look for other replicas' writes")
    geography_settle_s: float = Field(default=0.5, ge=0, description="quiet time before a new geography is loaded")
    services_per_1000_target: float = Field(default=1.0, gt=0)
    extended_hours_target: float = Field(default=0.4, gt=0, le=2)
    rebuild_stale_after_s: float = Field(default=30.0, gt=0)
    rebuild_drop_delay_s: float = Field(default=5.0, ge=0)
    opendata_publisher_id: str = Field(default="c_f205", description="IPA code of the open data's publisher")
    opendata_publisher_name: str = "Comune di Milano"
    opendata_contact_email: str = ""
