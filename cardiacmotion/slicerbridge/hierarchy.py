"""Subject hierarchy placement: results go beside the cine they were computed from (same study folder)."""
from __future__ import annotations


def place_next_to(node, reference) -> bool:
    """Put ``node`` under the subject-hierarchy parent of ``reference``; False when there is no hierarchy item.

    Slicer creates items for new data nodes by itself; headless (no subject hierarchy logic) the item is
    created here.
    """
    import slicer

    if node is None or reference is None or node.GetScene() is None:
        return False
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(node.GetScene())
    if sh is None:
        return False
    ref_item = sh.GetItemByDataNode(reference)
    if not ref_item:
        return False
    parent = sh.GetItemParent(ref_item)
    item = sh.GetItemByDataNode(node)
    if not item:
        item = sh.CreateItem(parent, node)
    else:
        sh.SetItemParent(item, parent)
    return bool(item)
