// Exporting what the user sees: PNG at 1x/2x/4x, SVG, and the data behind it as CSV.
#pragma once

#include <QString>
#include <functional>

class QMenu;
class QWidget;

namespace modlab::ui {

// Renders `widget` into a PNG `scale` times its size (crisp text and lines at 2x/4x).
bool exportPng(QWidget* widget, const QString& path, double scale, QString* error = nullptr);
bool exportSvg(QWidget* widget, const QString& path, const QString& title, QString* error = nullptr);
bool exportText(const QString& text, const QString& path, QString* error = nullptr);

// Adds "Export PNG 1x/2x/4x, SVG, CSV" actions to `menu` for `widget` (file dialogs).
void addExportActions(QMenu* menu, QWidget* widget, const QString& baseName, std::function<QString()> csv);
// A right-click context menu with those actions on `widget`.
void installExportMenu(QWidget* widget, const QString& baseName, std::function<QString()> csv);
// The same menu on `trigger` (a chart view) exporting `target` (its figure: title, panels, key).
void installExportMenu(QWidget* trigger, QWidget* target, const QString& baseName, std::function<QString()> csv);
// "" when `path` ends in the format's extension; otherwise the message to warn with.
QString extensionMismatch(const QString& path, const QString& format);
// The folder the last file dialog of the app was in (remembered in the settings).
QString lastFolder();
void rememberFolder(const QString& path);

}  // namespace modlab::ui
