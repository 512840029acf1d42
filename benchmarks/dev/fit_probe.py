"""Dev probe: setup + per-frame fit on a tuning clip, against ground truth (GT 2-D joints or BlazePose)."""
import json, math, sys, time
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from posecache import pose_frames
from clamcoach.body import BodyTracker
from clamcoach.measure.landmarks import POINTS, observe, GROUP_OF
from clamcoach.measure.model import BodyModel
from clamcoach.measure.setup_fit import fit_setup, body_size_px
from clamcoach.measure.frame_fit import FrameFitter
from clamcoach.types import Side

SIG = {"hip": 0.03, "knee": 0.02, "ankle": 0.02, "shoulder": 0.04, "foot": 0.03}

def gt_obs(gt, frame):
    top = gt["setup"]["top_side"]; bot = "left" if top == "right" else "right"
    names = gt["joints2d_names"]; j = frame["joints2d"]
    out = []
    for p in POINTS:
        lev, part = p.split("_", 1)
        side = top if lev == "top" else bot
        part = {"toe": "foot_index"}.get(part, part)
        x, y, v = j[names.index(f"{side}_{part}")]
        out.append((x, y))
    return np.array(out, float)

def run(video, source="gt", verbose=False):
    video = Path(video)
    gt = json.loads(video.with_suffix(".json").read_text())
    cam = gt["camera"]; K = cam["intrinsics"]
    frames = gt["frames"]
    lead = gt["plan"]["lead_in_s"]
    obs_seq = []
    if source == "gt":
        obs_seq = [(f["t"], gt_obs(gt, f), np.ones(12)) for f in frames]
    else:
        tr = BodyTracker()
        for t, pose in pose_frames(video):
            b = tr.push(pose)
            if b is None:
                obs_seq.append((t, np.full((12, 2), np.nan), np.zeros(12)))
            else:
                o, v = observe(b.image, b.top); obs_seq.append((t, o, v))
    top_side = gt["setup"]["top_side"] if source == "gt" else tr.top_side.value
    setup = [o for t, o, v in obs_seq if 0.2 <= t <= lead - 0.1 and np.all(np.isfinite(o))]
    med = np.median(np.array(setup), axis=0)
    sig = np.array([SIG[g] for g in GROUP_OF])
    t0 = time.perf_counter()
    fit = fit_setup(med, np.ones(12), fx=K["fx"], fy=K["fy"], cx=K["cx"], cy=K["cy"], sigma_rel=sig, mirrored=(top_side == 'left'))
    t_setup = time.perf_counter() - t0
    model = BodyModel(fit.rest)
    ff = FrameFitter(model, fit.camera, fit.offsets)
    q = np.zeros(4)
    gt_t = np.array([f["t"] for f in frames])
    err_open, err_roll, rows = [], [], []
    t0 = time.perf_counter()
    for t, o, v in obs_seq:
        if not np.all(np.isfinite(o[:8])):
            continue
        est = ff.fit(o, sig * fit.body_px, q)
        q = est.pose
        k = int(np.argmin(np.abs(gt_t - t)))
        f = frames[k]
        op = math.degrees(q[2]); roll = math.degrees(fit.rest.roll0 + q[0])
        rows.append((t, op, f["opening_deg"], roll, f["pelvis_roll_deg"], math.degrees(est.sd[0]), math.degrees(est.sd[2]), est.cost))
    t_frames = (time.perf_counter() - t0) / max(len(rows), 1)
    R = np.array(rows)
    # opening relative: subtract the rest level (setup opening GT)
    op_err = (R[:, 1] - R[:, 2]); roll_err = R[:, 3] - R[:, 4]
    # per-rep peaks
    reps = []
    for r in gt["reps"]:
        m = (R[:, 0] >= r["start_s"] - 0.3) & (R[:, 0] <= r["end_s"] + 0.3)
        pre = (R[:, 0] >= r["start_s"] - 0.6) & (R[:, 0] <= r["start_s"])
        if not m.any(): continue
        base_open = np.median(R[pre, 1]) if pre.any() else 0
        base_roll = np.median(R[pre, 3]) if pre.any() else R[m, 3][0]
        reps.append((r["peak_opening_deg"], R[m, 1].max() - base_open, r["peak_roll_back_deg"], base_roll - R[m, 3].min()))
    el = fit.camera.elevation_deg(); az = fit.camera.azimuth_deg()
    print(f"{video.name:22s} {source:5s} cam pitch {cam['pitch_deg']:5.1f} est elev {el:5.1f} az {az:6.1f} "
          f"setup roll gt {gt['setup']['forward_roll_deg']:5.1f} est {math.degrees(fit.rest.roll0):5.1f} "
          f"rms {fit.rms_rel:.3f} | open MAE {np.mean(np.abs(op_err)):5.1f} roll MAE {np.mean(np.abs(roll_err)):5.1f} "
          f"sdroll {np.median(R[:,5]):4.1f} sdopen {np.median(R[:,6]):4.1f} cost {np.median(R[:,7]):5.2f} | setup {t_setup:.1f}s frame {1000*t_frames:.2f}ms")
    for a in reps:
        print("    rep open gt %5.1f est %5.1f   rollback gt %5.1f est %5.1f" % a)
    return reps

if __name__ == "__main__":
    src = sys.argv[1]
    for v in sys.argv[2:]:
        run(v, src)

def setup_report(video, source="gt"):
    import clamcoach.measure.setup_fit as sf
    from clamcoach.measure.model import hip_flexion_deg, knee_flexion_deg
    video = Path(video); gt = json.loads(video.with_suffix(".json").read_text())
    K = gt["camera"]["intrinsics"]; lead = gt["plan"]["lead_in_s"]
    if source == "gt":
        seq = [(f["t"], gt_obs(gt, f)) for f in gt["frames"]]; top = gt["setup"]["top_side"]
    else:
        tr = BodyTracker(); seq = []
        for t, pose in pose_frames(video):
            b = tr.push(pose)
            if b is not None: seq.append((t, observe(b.image, b.top)[0]))
        top = tr.top_side.value
    med = np.median(np.array([o for t, o in seq if 0.2 <= t <= lead - 0.1]), axis=0)
    sig = np.array([SIG[g] for g in GROUP_OF])
    fit = sf.fit_setup(med, np.ones(12), fx=K["fx"], fy=K["fy"], cx=K["cx"], cy=K["cy"], sigma_rel=sig, mirrored=(top == "left"))
    r = fit.rest; s = gt["setup"]
    hf = hip_flexion_deg(r.top_hip, r.top_knee, r.top_hip, r.roll0)
    kf = knee_flexion_deg(r.top_hip, r.top_knee, r.top_ankle)
    print(f"{video.name:20s} {source} elev {fit.camera.elevation_deg():5.1f}/{gt['camera']['pitch_deg']:5.1f} "
          f"roll {math.degrees(r.roll0):5.1f}/{s['forward_roll_deg']:5.1f} hip {hf:5.1f}/{s['hip_flexion_deg']:5.1f} "
          f"knee {kf:5.1f}/{s['knee_flexion_deg']:5.1f} thigh {100*r.thigh:5.1f}/{s['thigh_length_cm']:5.1f} "
          f"shin {100*r.shin:5.1f}/{s['shin_length_cm']:5.1f} kgap {100*np.linalg.norm(r.top_knee-r.bottom_knee):5.1f}/{s['knee_gap_closed_cm']:5.1f} "
          f"agap {100*np.linalg.norm(r.top_ankle-r.bottom_ankle):5.1f}/{s['ankle_gap_closed_cm']:5.1f} "
          f"pelvis {200*fit.param('half_pelvis')[0]:4.1f} dist {np.linalg.norm(fit.camera.t):4.2f}/{gt['camera']['distance_m']:4.2f}")
