"""The CardiacMotion layout: slice view + volume chart + table + bullseye 3D view, registered by XML."""
from __future__ import annotations

from cardiacmotion.slicerbridge import headless
from cardiacmotion.slicerbridge.bullseye import VIEW_NAME

#: An id in the range Slicer leaves to extensions (built-in layouts stay well below).
LAYOUT_ID = 8611
PLOT_VIEW = "CardiacMotionPlot"
TABLE_VIEW = "CardiacMotionTable"

LAYOUT_XML = f"""<layout type="horizontal" split="true">
 <item splitSize="600">
  <view class="vtkMRMLSliceNode" singletontag="Red">
   <property name="orientation" action="default">Axial</property>
   <property name="viewlabel" action="default">R</property>
   <property name="viewcolor" action="default">#F34A33</property>
  </view>
 </item>
 <item splitSize="400">
  <layout type="vertical" split="true">
   <item>
    <view class="vtkMRMLPlotViewNode" singletontag="{PLOT_VIEW}">
     <property name="viewlabel" action="default">P</property>
    </view>
   </item>
   <item>
    <view class="vtkMRMLTableViewNode" singletontag="{TABLE_VIEW}">
     <property name="viewlabel" action="default">T</property>
    </view>
   </item>
   <item>
    <view class="vtkMRMLViewNode" singletontag="{VIEW_NAME}">
     <property name="viewlabel" action="default">AHA</property>
    </view>
   </item>
  </layout>
 </item>
</layout>
"""


def layout_node(scene=None):
    """The scene's layout node (created headless; Slicer always has one)."""
    scene = scene or headless.get_scene()
    node = scene.GetSingletonNode("vtkMRMLLayoutNode", "vtkMRMLLayoutNode")
    if node is None:
        nodes = scene.GetNodesByClass("vtkMRMLLayoutNode")
        node = nodes.GetItemAsObject(0) if nodes.GetNumberOfItems() else None
    if node is None:
        import slicer

        node = slicer.vtkMRMLLayoutNode()
        node.SetSingletonTag("vtkMRMLLayoutNode")
        scene.AddNode(node)
    return node


def register_layout(scene=None) -> int:
    """Add the CardiacMotion layout description to the layout node (idempotent) and return its id."""
    node = layout_node(scene)
    if not node.IsLayoutDescription(LAYOUT_ID):
        node.AddLayoutDescription(LAYOUT_ID, LAYOUT_XML)
    else:
        node.SetLayoutDescription(LAYOUT_ID, LAYOUT_XML)
    return LAYOUT_ID


def show_results(chart=None, table=None, scene=None) -> None:
    """Switch to the CardiacMotion layout and put ``chart`` / ``table`` in its plot and table views.

    Headless, the plot and table view nodes are created here (in Slicer the layout manager creates them
    from the XML and they are found by their singleton tags).
    """
    import slicer

    scene = scene or headless.get_scene()
    register_layout(scene)
    layout_node(scene).SetViewArrangement(LAYOUT_ID)
    if chart is not None:
        view = scene.GetSingletonNode(PLOT_VIEW, "vtkMRMLPlotViewNode")
        if view is None:
            view = slicer.vtkMRMLPlotViewNode()
            view.SetSingletonTag(PLOT_VIEW)
            view.SetLayoutName(PLOT_VIEW)
            view.SetName("PlotView" + PLOT_VIEW)
            scene.AddNode(view)
        view.SetPlotChartNodeID(chart.GetID())
        view.SetInteractionMode(view.InteractionModeSelectPoints)  # a click on a point selects that phase
    if table is not None:
        view = scene.GetSingletonNode(TABLE_VIEW, "vtkMRMLTableViewNode")
        if view is None:
            view = slicer.vtkMRMLTableViewNode()
            view.SetSingletonTag(TABLE_VIEW)
            view.SetLayoutName(TABLE_VIEW)
            view.SetName("TableView" + TABLE_VIEW)
            scene.AddNode(view)
        view.SetTableNodeID(table.GetID())
