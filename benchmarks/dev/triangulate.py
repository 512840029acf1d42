"""Dev: 3-D joints of a rendered set by triangulating its ground-truth 2-D joints over its views."""
import json, sys
from pathlib import Path
import numpy as np

def proj_matrix(cam):
    P = np.array(cam["pose_camera_to_world"]); inv = np.linalg.inv(P)
    K = cam["intrinsics"]
    # OpenGL camera: looks down -z, y up -> OpenCV: flip y and z
    F = np.diag([1, -1, -1])
    Rt = F @ inv[:3, :4]
    Km = np.array([[K["fx"], 0, K["cx"]], [0, K["fy"], K["cy"]], [0, 0, 1]])
    return Km @ Rt

def triangulate(set_stem, data="data/tuning"):
    gts = [json.loads(p.read_text()) for p in sorted(Path(data).glob(f"{set_stem}_*.json"))]
    names = gts[0]["joints2d_names"]
    Ps = [proj_matrix(g["camera"]) for g in gts]
    n = min(len(g["frames"]) for g in gts)
    X = np.zeros((n, len(names), 3))
    for i in range(n):
        for j in range(len(names)):
            A = []
            for P, g in zip(Ps, gts):
                x, y, v = g["frames"][i]["joints2d"][j]
                A.append(x * P[2] - P[0]); A.append(y * P[2] - P[1])
            _, _, Vt = np.linalg.svd(np.array(A))
            h = Vt[-1]; X[i, j] = h[:3] / h[3]
    # reprojection check
    err = []
    for P, g in zip(Ps, gts):
        for i in range(0, n, 50):
            for j in range(len(names)):
                h = P @ np.append(X[i, j], 1); u = h[:2] / h[2]
                err.append(np.linalg.norm(u - np.array(g["frames"][i]["joints2d"][j][:2])))
    return X, names, gts, float(np.median(err))

if __name__ == "__main__":
    X, names, gts, e = triangulate(sys.argv[1])
    print("median reproj px", e, X.shape)
    i = 5
    for j, nm in enumerate(names): print(nm, np.round(X[i, j], 3))
