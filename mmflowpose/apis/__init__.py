from .model_init import (ConfigError, build_model, init_model, load_config,
                         resolve_config_path)

__all__ = ['init_model', 'build_model', 'load_config', 'ConfigError',
    'resolve_config_path'
]
