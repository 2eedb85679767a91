"""Start the classifier of classes that never occur in training at
probability ~1e-6 (ActionFormer's ``head_empty_cls``), found from the
training set instead of typed into the config."""
from typing import List

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmaction.registry import HOOKS


def classes_without_instances(dataset, num_classes: int) -> List[int]:
    """Class ids in ``[0, num_classes)`` with no segment in ``dataset``
    (any MMEngine dataset whose data infos carry ``labels``)."""
    seen = set()
    for i in range(len(dataset)):
        seen.update(int(c) for c in dataset.get_data_info(i)['labels'])
    return [c for c in range(num_classes) if c not in seen]


@HOOKS.register_module()
class EmptyClassPriorHook(Hook):
    """Before the first iteration of a run that loaded no checkpoint, find
    the classes absent from the training set and call the head's
    ``set_empty_classes`` with them.

    Without it such a class keeps the 0.01 prior of every class and, never
    trained as a positive, still produces detections at test time.
    ActionFormer counts the classes of every video in its annotation JSON
    (training and validation); this hook counts the training set only, so
    a class seen only in validation is also started at 1e-6 here.
    """

    priority = 'NORMAL'

    def before_train(self, runner) -> None:
        if getattr(runner, '_has_loaded', False):
            return  # resumed or loaded weights: the biases are learned
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        head = getattr(model, 'head', None)
        if not hasattr(head, 'set_empty_classes'):
            runner.logger.warning('EmptyClassPriorHook: the model head has '
                                  'no set_empty_classes(); nothing done')
            return
        dataset = runner.train_dataloader.dataset
        empty = classes_without_instances(dataset, head.num_classes)
        if not empty:
            return
        names = dataset.metainfo.get('classes')
        shown = [f'{c} ({names[c]})' if names and c < len(names) else str(c)
                 for c in empty]
        runner.logger.info(
            f'EmptyClassPriorHook: {len(empty)} of {head.num_classes} '
            f'classes have no training instance and start at probability '
            f'1e-6: {", ".join(shown[:20])}'
            + (' ...' if len(shown) > 20 else ''))
        head.set_empty_classes(empty)
