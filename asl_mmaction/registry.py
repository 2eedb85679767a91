"""The ``asl_mmaction`` registry scope: children of MMAction2's registries.

Every component of this package is registered in MMAction2's registries
(``mmaction.registry``); nothing is registered here. This module exists for
MMEngine's ``package::path`` config references: a config that inherits
``_base_ = ['asl_mmaction::asl/asl_demo.py']`` gets ``_scope_ =
'asl_mmaction'`` on its component dicts, and MMEngine then builds them from
``asl_mmaction.registry``. Each registry below is an empty child of
MMAction2's, so such a build finds exactly what the ``mmaction`` scope
finds.
"""
from mmaction import registry as mmaction_registry
from mmengine.registry import Registry

SCOPE = 'asl_mmaction'


def _child(name: str) -> Registry:
    parent = getattr(mmaction_registry, name)
    # Importing the package registers every component (into the parent).
    return Registry(parent.name, parent=parent, scope=SCOPE,
                    locations=['asl_mmaction'])


RUNNERS = _child('RUNNERS')
RUNNER_CONSTRUCTORS = _child('RUNNER_CONSTRUCTORS')
LOOPS = _child('LOOPS')
HOOKS = _child('HOOKS')
LOG_PROCESSORS = _child('LOG_PROCESSORS')
OPTIMIZERS = _child('OPTIMIZERS')
OPTIM_WRAPPERS = _child('OPTIM_WRAPPERS')
OPTIM_WRAPPER_CONSTRUCTORS = _child('OPTIM_WRAPPER_CONSTRUCTORS')
PARAM_SCHEDULERS = _child('PARAM_SCHEDULERS')
DATASETS = _child('DATASETS')
DATA_SAMPLERS = _child('DATA_SAMPLERS')
TRANSFORMS = _child('TRANSFORMS')
MODELS = _child('MODELS')
MODEL_WRAPPERS = _child('MODEL_WRAPPERS')
WEIGHT_INITIALIZERS = _child('WEIGHT_INITIALIZERS')
TASK_UTILS = _child('TASK_UTILS')
METRICS = _child('METRICS')
EVALUATOR = _child('EVALUATOR')
VISUALIZERS = _child('VISUALIZERS')
VISBACKENDS = _child('VISBACKENDS')
INFERENCERS = _child('INFERENCERS')
FUNCTION = _child('FUNCTION')
