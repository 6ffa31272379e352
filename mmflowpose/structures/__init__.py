from .clip_data_sample import FIELDS, STACKED, ClipDataSample, check_field

__all__ = ['ClipDataSample', 'FIELDS', 'STACKED', 'check_field']
