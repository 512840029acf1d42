"""Dev: 3-D geometry of BlazePose's landmarks (triangulated over a tuning set's views) vs the joint centres."""
import json, sys
from pathlib import Path
import numpy as np
sys.path.insert(0, "benchmarks"); sys.path.insert(0, "benchmarks/dev")
from posecache import pose_frames
from triangulate import proj_matrix, triangulate
from clamcoach.body import BodyTracker
from clamcoach.measure.landmarks import POINTS, observe
from fit_probe import gt_obs

def tri(Ps, pts):
    A = []
    for P, (x, y) in zip(Ps, pts):
        A.append(x * P[2] - P[0]); A.append(y * P[2] - P[1])
    _, _, Vt = np.linalg.svd(np.array(A)); h = Vt[-1]; return h[:3] / h[3]

def geom(X):  # X: dict name->3d
    d = lambda a, b: np.linalg.norm(X[a] - X[b])
    mh = (X["bottom_hip"] + X["top_hip"]) / 2; ms = (X["bottom_shoulder"] + X["top_shoulder"]) / 2
    return dict(hipw=d("top_hip", "bottom_hip"), shw=d("top_shoulder", "bottom_shoulder"),
                trunk=np.linalg.norm(ms - mh), thigh=d("bottom_hip", "bottom_knee"), shin=d("bottom_knee", "bottom_ankle"),
                kstack=d("top_knee", "bottom_knee"), astack=d("top_ankle", "bottom_ankle"),
                hip_dz=X["top_hip"][2] - X["bottom_hip"][2], bk_dz=X["bottom_knee"][2] - X["bottom_hip"][2],
                ba_dz=X["bottom_ankle"][2] - X["bottom_hip"][2], bs_dz=X["bottom_shoulder"][2] - X["bottom_hip"][2])

for s in sys.argv[1:]:
    vids = sorted(Path("data/tuning").glob(f"{s}_*.mp4"))
    gts = [json.loads(v.with_suffix(".json").read_text()) for v in vids]
    Ps = [proj_matrix(g["camera"]) for g in gts]
    lead = gts[0]["plan"]["lead_in_s"]
    obs = []
    for v in vids:
        tr = BodyTracker(); seq = []
        for t, pose in pose_frames(v):
            b = tr.push(pose)
            if b is not None and 0.2 <= t <= lead - 0.1: seq.append(observe(b.image, b.top)[0])
        obs.append(np.median(np.array(seq), axis=0) if seq else None)
    keep = [i for i, o in enumerate(obs) if o is not None and "feet" not in vids[i].name]
    Xbp = {n: tri([Ps[i] for i in keep], [obs[i][k] for i in keep]) for k, n in enumerate(POINTS)}
    f0 = [g["frames"][int(lead * 15) // 2] for g in gts]
    Xgt = {n: tri(Ps, [gt_obs(g, f)[k] for g, f in zip(gts, f0)]) for k, n in enumerate(POINTS)}
    gb, gg = geom(Xbp), geom(Xgt)
    print(s, " ".join(f"{k} {100*gb[k]:.1f}/{100*gg[k]:.1f}" for k in gb))
    print("   offsets bp-gt (cm):", " ".join(f"{n}:{np.round(100*(Xbp[n]-Xgt[n]),1)}" for n in POINTS[:8]))

def body_frame_params(X, mirrored):
    from clamcoach.measure.model import hip_flexion_deg, knee_flexion_deg
    P = {n: X[n] * (np.array([-1, 1, 1]) if mirrored else 1) for n in X}
    o = P["bottom_hip"]; P = {n: v - o for n, v in P.items()}
    ms = (P["bottom_shoulder"] + P["top_shoulder"]) / 2; mh = (P["top_hip"]) / 2
    x = ms - mh; x[2] = 0; x /= np.linalg.norm(x); z = np.array([0, 0, 1.0]); y = np.cross(z, x)
    B = np.stack([x, y, z]); Q = {n: B @ v for n, v in P.items()}
    roll = np.degrees(np.arctan2(-Q["top_hip"][1], Q["top_hip"][2]))
    sl = Q["top_shoulder"] - Q["bottom_shoulder"]; troll = np.degrees(np.arctan2(-sl[1], sl[2]))
    th = Q["bottom_knee"]; drop = np.degrees(np.arctan2(-th[2], np.hypot(th[0], th[1])))
    hf = np.degrees(np.arctan2(-th[1], -th[0])); sh = Q["bottom_ankle"] - Q["bottom_knee"]
    kf = hf - np.degrees(np.arctan2(-sh[1], -sh[0]))
    hft = hip_flexion_deg(Q["top_hip"], Q["top_knee"], Q["top_hip"], np.radians(roll))
    kft = knee_flexion_deg(Q["top_hip"], Q["top_knee"], Q["top_ankle"])
    msq = (Q["bottom_shoulder"] + Q["top_shoulder"]) / 2
    return dict(roll=roll, troll=troll, drop=drop, hipflex_b=hf, kneeflex_b=kf, hipflex_t=hft, kneeflex_t=kft,
                sh_dy=100 * msq[1], sh_dz=100 * (msq[2] - Q["top_hip"][2] / 2),
                kst=np.round(100 * (Q["top_knee"] - Q["bottom_knee"]), 1), ast=np.round(100 * (Q["top_ankle"] - Q["bottom_ankle"]), 1))

if __name__ == "__main__" and True:
    print("=== body-frame parameters: BP / GT")
    for s in sys.argv[1:]:
        vids = sorted(Path("data/tuning").glob(f"{s}_*.mp4"))
        gts = [json.loads(v.with_suffix(".json").read_text()) for v in vids]
        Ps = [proj_matrix(g["camera"]) for g in gts]; lead = gts[0]["plan"]["lead_in_s"]
        obs = []
        for v in vids:
            tr = BodyTracker(); seq = []
            for t, pose in pose_frames(v):
                b = tr.push(pose)
                if b is not None and 0.2 <= t <= lead - 0.1: seq.append(observe(b.image, b.top)[0])
            obs.append(np.median(np.array(seq), axis=0) if seq else None)
        keep = [i for i, o in enumerate(obs) if o is not None and "feet" not in vids[i].name]
        Xbp = {n: tri([Ps[i] for i in keep], [obs[i][k] for i in keep]) for k, n in enumerate(POINTS)}
        f0 = [g["frames"][int(lead * 15) // 2] for g in gts]
        Xgt = {n: tri(Ps, [gt_obs(g, f)[k] for g, f in zip(gts, f0)]) for k, n in enumerate(POINTS)}
        mir = gts[0]["setup"]["top_side"] == "left"
        a, b = body_frame_params(Xbp, mir), body_frame_params(Xgt, mir)
        print(s, " ".join(f"{k} {a[k] if isinstance(a[k], np.ndarray) else round(float(a[k]),1)}/{b[k] if isinstance(b[k], np.ndarray) else round(float(b[k]),1)}" for k in a))
