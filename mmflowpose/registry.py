"""mmflowpose registries.

Each registry is a child of mmpose's (which are children of mmengine's), so an
unscoped ``type='PoseLifter'`` in an mmflowpose config still finds mmpose's
classes. mmflow classes are reached with the ``mmflow.`` prefix or through
:func:`mmflowpose.apis.init_model`, which builds them in mmflow's scope.
"""
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import Registry
from mmpose.registry import DATA_SAMPLERS as MMPOSE_DATA_SAMPLERS
from mmpose.registry import DATASETS as MMPOSE_DATASETS
from mmpose.registry import EVALUATORS as MMPOSE_EVALUATORS
from mmpose.registry import HOOKS as MMPOSE_HOOKS
from mmpose.registry import INFERENCERS as MMPOSE_INFERENCERS
from mmpose.registry import KEYPOINT_CODECS as MMPOSE_KEYPOINT_CODECS
from mmpose.registry import LOG_PROCESSORS as MMPOSE_LOG_PROCESSORS
from mmpose.registry import LOOPS as MMPOSE_LOOPS
from mmpose.registry import METRICS as MMPOSE_METRICS
from mmpose.registry import MODEL_WRAPPERS as MMPOSE_MODEL_WRAPPERS
from mmpose.registry import MODELS as MMPOSE_MODELS
from mmpose.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMPOSE_OWC
from mmpose.registry import OPTIM_WRAPPERS as MMPOSE_OPTIM_WRAPPERS
from mmpose.registry import OPTIMIZERS as MMPOSE_OPTIMIZERS
from mmpose.registry import PARAM_SCHEDULERS as MMPOSE_PARAM_SCHEDULERS
from mmpose.registry import RUNNERS as MMPOSE_RUNNERS
from mmpose.registry import TRANSFORMS as MMPOSE_TRANSFORMS
from mmpose.registry import VISBACKENDS as MMPOSE_VISBACKENDS
from mmpose.registry import VISUALIZERS as MMPOSE_VISUALIZERS

# runners, loops and hooks (per-cycle metric logging, visualisation)
RUNNERS = Registry('runner', parent=MMPOSE_RUNNERS)
LOOPS = Registry('loop', parent=MMPOSE_LOOPS)
HOOKS = Registry(
    'hook', parent=MMPOSE_HOOKS, locations=['mmflowpose.engine.hooks'])

# clip datasets (H36M, 3DPW, Sintel, synthetic) and their transforms
DATASETS = Registry(
    'dataset', parent=MMPOSE_DATASETS, locations=['mmflowpose.datasets'])
DATA_SAMPLERS = Registry('data sampler', parent=MMPOSE_DATA_SAMPLERS)
# collate functions (clip_collate keeps each clip's arrays as they are)
FUNCTIONS = Registry(
    'function', parent=MMENGINE_FUNCTIONS, locations=['mmflowpose.datasets'])
TRANSFORMS = Registry(
    'transform', parent=MMPOSE_TRANSFORMS, locations=['mmflowpose.datasets'])

# the refiner, sketch head, losses, pose optimiser, flow fine-tuner
MODELS = Registry(
    'model', parent=MMPOSE_MODELS, locations=['mmflowpose.models'])
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMPOSE_MODEL_WRAPPERS)

# optimisers used by the test-time optimisation and fine-tuning
OPTIMIZERS = Registry('optimizer', parent=MMPOSE_OPTIMIZERS)
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMPOSE_OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor', parent=MMPOSE_OWC)
PARAM_SCHEDULERS = Registry(
    'parameter scheduler', parent=MMPOSE_PARAM_SCHEDULERS)

# pose and flow metrics (MPJPE, P-MPJPE, accel error, EPE variants)
METRICS = Registry(
    'metric',
    parent=MMPOSE_METRICS,
    locations=['mmflowpose.evaluation.metrics'])
EVALUATORS = Registry('evaluator', parent=MMPOSE_EVALUATORS)

# drawing skeletons and flow fields
VISUALIZERS = Registry(
    'visualizer',
    parent=MMPOSE_VISUALIZERS,
    locations=['mmflowpose.visualization'])
VISBACKENDS = Registry('vis_backend', parent=MMPOSE_VISBACKENDS)
LOG_PROCESSORS = Registry('log processor', parent=MMPOSE_LOG_PROCESSORS)

# keypoint codecs: mmpose's registry has no parent, ours inherits it so the
# lifters' codecs resolve in the mmflowpose scope
KEYPOINT_CODECS = Registry('keypoint codec', parent=MMPOSE_KEYPOINT_CODECS)

# inferencers (FlowPoseInferencer)
INFERENCERS = Registry(
    'inferencer', parent=MMPOSE_INFERENCERS, locations=['mmflowpose.apis'])
