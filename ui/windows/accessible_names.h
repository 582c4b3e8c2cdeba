// What a screen reader says for each control of a window: the charts and heatmaps by what
// they show, the fields by their form label (or tooltip), so that none is read as "spin box".
#pragma once

class QWidget;

namespace modlab::ui {

// Names every field, list, slider and text-less button under `root` that has no accessible
// name yet, from its QFormLayout label, else its tooltip's first sentence.
void nameControlsForScreenReaders(QWidget* root);

}  // namespace modlab::ui
