"""Measuring the body from one camera: a small articulated body model seen through a pinhole
camera, fitted to the pose model's 2-D landmarks (see ../shared/design/ARCHITECTURE.md).

    model.py       the side-lying body and its few degrees of freedom
    camera.py      the pinhole camera and its pose relative to the body
    landmarks.py   which landmarks the model is fitted to
    setup_fit.py   camera, body and landmark offsets from the still setup
    frame_fit.py   per frame: the pose with its covariance
    placement.py   what this placement can see, and where to move the camera
    stage.py       the online stage the engine runs
    lifting.py     the lifting network: the pelvis roll's change since the setup
"""

#: Bumped whenever a change to the model, its priors or its noise levels can change a number.
MODEL_VERSION = "bodyfit-2"
