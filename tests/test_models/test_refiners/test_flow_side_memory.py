"""The refiner's sketch and fine-tuning targets, built in pieces so their
memory does not follow the window's length, equal the whole-clip ones."""
import torch

from mmflowpose.datasets.synthetic import make_clip
from mmflowpose.models.heads import PoseSketchFlowHead
from mmflowpose.models.refiners.flow_side import (finetune_targets,
                                                  sketch_pairs)


def _clip(num_frames=7, size=(64, 96)):
    clip = make_clip('procedural:walk', camera=0, image_size=size,
                     num_frames=num_frames, seed=0)
    joints = torch.as_tensor(clip['joints_2d'], dtype=torch.float32)
    scores = torch.ones(joints.shape[:2])
    scores[2, 5] = 0.  # one joint missed: its squares must stay unpainted
    flow = torch.as_tensor(clip['flow']).permute(0, 3, 1, 2).float()
    return joints, scores, flow, size


def test_sketch_pairs_equals_one_call_whatever_the_chunk():
    joints, scores, flow, size = _clip()
    # squares scaled per pair (person's box) and gated by the base flow:
    # both are per-pair choices a chunk boundary must not change
    head = PoseSketchFlowHead(square_size=3, square_scale=0.1,
                              gate_thr=4.0)
    whole = head(joints[:-1], joints[1:], size,
                 scores=(scores[:-1], scores[1:]), base_flow=flow)
    assert whole[1].any() and not whole[1].all()
    for chunk in (1, 2, 4, 6, 10):
        sketch, mask = sketch_pairs(head, joints, scores, size, flow, chunk)
        assert torch.equal(mask, whole[1]), chunk
        assert torch.equal(sketch, whole[0]), chunk


def test_finetune_targets_are_the_box_of_the_whole_targets():
    joints, scores, flow, size = _clip()
    head = PoseSketchFlowHead(square_size=3)
    sketch, mask = sketch_pairs(head, joints, scores, size, flow)
    flows = [flow, flow * 0.5]  # two networks, one target each
    box, targets = finetune_targets(head, flows, sketch, mask, size,
                                    dict(margin=0.25, min_side=32))
    y0, y1, x0, x1 = box
    assert 0 <= y0 < y1 <= size[0] and 0 <= x0 < x1 <= size[1]
    assert (y1 - y0, x1 - x0) != size  # a real crop
    for own, target in zip(flows, targets):
        full = head.compose(own, sketch, mask)
        assert target.is_contiguous()
        assert torch.equal(target, full[..., y0:y1, x0:x1])
    # no crop: the whole working size; no confident joint: nothing to do
    box, targets = finetune_targets(head, flows, sketch, mask, size, None)
    assert box == (0, size[0], 0, size[1])
    assert torch.equal(targets[0], head.compose(flow, sketch, mask))
    assert finetune_targets(head, flows, sketch, torch.zeros_like(mask),
                            size, dict(margin=0.25)) is None


def test_cycle_record_pack_stacks_and_lets_go_of_the_cycles():
    from mmflowpose.models.refiners.clip_inputs import ClipInputs
    from mmflowpose.models.refiners.cycle_record import CycleRecord
    from mmflowpose.structures import ClipDataSample
    record = CycleRecord(keep_flow=True)
    flows = [torch.full((3, 2, 4, 5), float(c)) for c in range(3)]
    masks = [torch.rand(3, 4, 5) > 0.5 for _ in range(3)]
    for flow, mask in zip(flows, masks):
        record.add(torch.zeros(4, 17, 3), torch.zeros(4, 3),
                   torch.zeros(4, 17, 2), flow, mask)
    clip = ClipInputs(None, torch.zeros(4, 17, 2), torch.ones(4, 17),
                      torch.zeros(4, 17, 3), (4, 5), (4, 5), None)
    out = record.pack(ClipDataSample(metainfo=dict(clip_id='c')), clip)
    assert torch.equal(out.pred_flow, torch.stack(flows))
    assert torch.equal(out.pred_sketch_mask, torch.stack(masks))
    # the record no longer holds the per-cycle flows next to their stack
    assert record.flow == [] and record.sketch_mask == []
