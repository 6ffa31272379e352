"""Drawing 3D skeletons and flow fields, plots, writing videos."""
from .files import save_image
from .flowpose_visualizer import FlowPoseVisualizer
from .video import VideoSink, write_video

__all__ = ['FlowPoseVisualizer', 'VideoSink', 'save_image', 'write_video']
