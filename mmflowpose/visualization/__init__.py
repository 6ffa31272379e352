"""Drawing 3D skeletons and flow fields, writing videos."""
from .flowpose_visualizer import FlowPoseVisualizer, VideoSink, write_video

__all__ = ['FlowPoseVisualizer', 'VideoSink', 'write_video']
