"""The health-metrics page as a doctor reads it (AppTest over the real app, demo data): the patient is chosen above
the tabs as on every other page, the charts say what their band, dashed line and alert line mean, and no title
repeats its unit."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from backend.bootstrap import App
from backend.domain.models import Role
from backend.services.access import Principal
from backend.services.demo_metrics import write_demo_metrics
from tests.helpers.apptest import app_fixture, open_page

app = app_fixture("health-metrics-page", demo_data=True)
DOCTOR = Principal("doctor", Role.DOCTOR)
PID = "PAT_de000001"


def figures(at: AppTest) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_the_patient_is_chosen_above_the_tabs_and_the_charts_explain_themselves(app: App) -> None:
    write_demo_metrics(app.stores, PID, seed=0)
    at = open_page("health_metrics", DOCTOR, PID)
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Charts", "Import", "Cohort"]
    assert not any(t.selectbox for t in at.tabs)  # the patient picker is not inside a tab
    (guide,) = [c.value for c in at.caption if c.value.startswith("How to read the charts")]
    assert "shaded band" in guide and "dashed line" in guide and "alert threshold (alert at 0.5:" in guide
    specs = figures(at)
    titles = [s["layout"]["title"]["text"] for s in specs]
    assert "Steps" in titles and not any("(steps)" in t for t in titles)
    for spec in specs[1:]:  # every metric chart names its band and baseline in its legend
        assert spec["layout"]["showlegend"] is True
        legend = [t["name"] for t in spec["data"] if t.get("showlegend") is not False]
        assert "usual range for this patient" in legend and any(n.startswith("baseline: median") for n in legend)
    alert = specs[0]["layout"]["annotations"][0]["text"]
    assert alert.startswith("alert at 0.5:") and "signals off" in alert
