from .pack_clip_inputs import PackClipInputs

__all__ = ['PackClipInputs']
