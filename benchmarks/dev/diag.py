"""Dev: per-clip diagnosis of the engine on cached poses (calibrations, fit cost, SDs, truth)."""
import json, math, sys
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from posecache import pose_frames
from clamcoach.engine import Engine
from clamcoach.protocol import load_protocol
for v in sys.argv[1:]:
    v = Path(v); gt = json.loads(v.with_suffix(".json").read_text())
    e = Engine(load_protocol()); rows = []
    gt_t = np.array([f["t"] for f in gt["frames"]])
    for t, p in pose_frames(v):
        s = e.push(p, t)
        k = s.kinematics
        f = gt["frames"][int(np.argmin(np.abs(gt_t - t)))]
        rows.append((t, k.opening_deg if k else np.nan, f["opening_deg"], k.pelvis_roll_deg if k else np.nan, f["pelvis_roll_deg"], k.fit_cost if k else np.nan, k.sd.opening_deg if k else np.nan, e.measure.calibrations))
    R = np.array(rows)
    cam = gt["camera"]; pl = e.placement
    print(f"{v.name}: gt pitch {cam['pitch_deg']} yaw {cam['yaw_deg']} | est elev {pl.elevation_deg:.0f} az {pl.azimuth_deg:.0f} roll sd {pl.roll_sd_deg:.1f} open sd {pl.opening_sd_deg:.1f} | calibrations {e.measure.calibrations} cost med {np.nanmedian(R[:,5]):.2f} max {np.nanmax(R[:,5]):.1f}")
    for i in range(0, len(R), max(1, len(R)//40)):
        t, o, og, r, rg, c, sd, n = R[i]
        print(f"  t {t:5.1f} open {o:6.1f} gt {og:5.1f}  roll {r:6.1f} gt {rg:5.1f} cost {c:6.2f} sd {sd:5.1f} cal {n:.0f}")
