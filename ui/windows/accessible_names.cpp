#include "ui/windows/accessible_names.h"

#include <QAbstractButton>
#include <QAbstractSlider>
#include <QAbstractSpinBox>
#include <QComboBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpression>
#include <QWidget>

namespace modlab::ui {

namespace {

// The label a QFormLayout shows beside `field`, "" when it has none.
QString formLabel(QWidget* field) {
  for (QWidget* w = field; w && w->parentWidget(); w = w->parentWidget()) {
    auto* form = qobject_cast<QFormLayout*>(w->parentWidget()->layout());
    if (!form) continue;
    if (auto* label = qobject_cast<QLabel*>(form->labelForField(w))) return label->text().remove('&').remove(':').trimmed();
  }
  return {};
}

QString firstSentence(const QString& text) {
  const QString plain = QString(text).remove(QRegularExpression("<[^>]*>")).simplified();
  const int end = plain.indexOf(". ");
  return end > 0 ? plain.left(end) : plain;
}

}  // namespace

void nameControlsForScreenReaders(QWidget* root) {
  for (QWidget* w : root->findChildren<QWidget*>()) {
    if (!w->accessibleName().isEmpty()) continue;
    const auto* button = qobject_cast<QAbstractButton*>(w);
    const bool field = qobject_cast<QAbstractSpinBox*>(w) || qobject_cast<QComboBox*>(w) || qobject_cast<QAbstractSlider*>(w) ||
                       (qobject_cast<QLineEdit*>(w) && !qobject_cast<QAbstractSpinBox*>(w->parentWidget()) &&
                        !qobject_cast<QComboBox*>(w->parentWidget())) ||
                       (button && button->text().remove('&').trimmed().isEmpty());
    if (!field) continue;
    QString name = formLabel(w);
    if (name.isEmpty()) name = firstSentence(w->toolTip());
    if (!name.isEmpty()) w->setAccessibleName(name);
  }
}

}  // namespace modlab::ui
