"""Drawing 3D skeletons and flow fields, plots, writing videos."""
from .curves import clip_curves
from .files import save_image
from .flowpose_visualizer import FlowPoseVisualizer
from .plots import draw_refinement_summary, plot_clip_curves
from .video import VideoSink, write_video

__all__ = [
    'FlowPoseVisualizer', 'VideoSink', 'clip_curves',
    'draw_refinement_summary', 'plot_clip_curves', 'save_image', 'write_video'
]
