import pytest
from mmengine.registry import DefaultScope

import mmflowpose
from mmflowpose import registry


@pytest.mark.parametrize('name', [
    'RUNNERS', 'LOOPS', 'HOOKS', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS',
    'MODELS', 'MODEL_WRAPPERS', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'METRICS',
    'EVALUATORS', 'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS',
    'KEYPOINT_CODECS', 'INFERENCERS'
])
def test_every_registry_is_a_child_of_mmpose(name):
    import mmpose.registry
    ours = getattr(registry, name)
    assert ours.scope == 'mmflowpose'
    assert ours.parent is getattr(mmpose.registry, name)


def test_collate_functions_registry():
    import mmengine.registry
    assert registry.FUNCTIONS.parent is mmengine.registry.FUNCTIONS
    mmflowpose.utils.register_all_modules()
    # the Runner looks collate functions up by name from mmengine's root
    collate = mmengine.registry.FUNCTIONS.get('mmflowpose.clip_collate')
    batch = collate([dict(inputs=1, data_samples=2)] * 2)
    assert batch == dict(inputs=[1, 1], data_samples=[2, 2])


def test_parent_classes_resolve_in_our_scope():
    mmflowpose.utils.register_all_modules()
    with DefaultScope.overwrite_default_scope('mmflowpose'):
        codec = registry.KEYPOINT_CODECS.build(
            dict(type='ImagePoseLifting', num_keypoints=17, root_index=0))
        assert type(codec).__name__ == 'ImagePoseLifting'
        optimizer = registry.OPTIMIZERS.get('Adam')
        assert optimizer.__name__ == 'Adam'
        assert registry.METRICS.get('MPJPE') is not None  # mmpose's
        assert registry.HOOKS.get('CheckpointHook') is not None
        assert registry.DATASETS.get('Human36mDataset') is not None


def test_register_all_modules_sets_scope_and_warns_on_switch():
    mmflowpose.utils.register_all_modules()
    assert DefaultScope.get_current_instance().scope_name == 'mmflowpose'
    DefaultScope.get_instance('someone-else', scope_name='mmpose')
    with pytest.warns(UserWarning, match='not "mmflowpose"'):
        mmflowpose.utils.register_all_modules()
    assert DefaultScope.get_current_instance().scope_name == 'mmflowpose'
