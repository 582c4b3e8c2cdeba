#include "ui/export/chart_export.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSettings>
#include <QFileDialog>
#include <QImage>
#include <QLayout>
#include <QMenu>
#include <QMessageBox>
#include <QImageWriter>
#include <QPainter>
#include <QSaveFile>
#include <QSvgGenerator>
#include <QWidget>

namespace modlab::ui {

bool exportPng(QWidget* widget, const QString& path, double scale, QString* error) {
  if (widget->layout()) widget->layout()->activate();
  QImage image(widget->size() * scale, QImage::Format_ARGB32_Premultiplied);
  image.setDevicePixelRatio(scale);
  image.fill(widget->palette().window().color());
  {
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setRenderHint(QPainter::TextAntialiasing);
    widget->render(&painter, QPoint(), QRegion(), QWidget::DrawChildren);
  }
  QImageWriter writer(path, "png");
  if (!writer.write(image)) {
    if (error) *error = QObject::tr("cannot write %1: %2").arg(path, writer.errorString());
    return false;
  }
  return true;
}

bool exportSvg(QWidget* widget, const QString& path, const QString& title, QString* error) {
  QSvgGenerator svg;
  svg.setFileName(path);
  svg.setSize(widget->size());
  svg.setViewBox(QRect(QPoint(), widget->size()));
  svg.setTitle(title);
  svg.setDescription(QObject::tr("Exported from Modularity Lab"));
  {
    QPainter painter;
    if (!painter.begin(&svg)) {
      if (error) *error = QObject::tr("cannot write %1").arg(path);
      return false;
    }
    widget->render(&painter, QPoint(), QRegion(), QWidget::DrawChildren);
  }
  if (!QFile::exists(path) || QFile(path).size() == 0) {
    if (error) *error = QObject::tr("cannot write %1").arg(path);
    return false;
  }
  return true;
}

bool exportText(const QString& text, const QString& path, QString* error) {
  QSaveFile file(path);  // atomic: temp file + rename
  if (!file.open(QIODevice::WriteOnly | QIODevice::Text) || file.write(text.toUtf8()) < 0 || !file.commit()) {
    if (error) *error = QObject::tr("cannot write %1: %2").arg(path, file.errorString());
    return false;
  }
  return true;
}

QString extensionMismatch(const QString& path, const QString& format) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  if (suffix == format.toLower()) return {};
  return suffix.isEmpty() ? QObject::tr("%1 has no extension; it will be written as %2.").arg(QFileInfo(path).fileName(), format.toUpper())
                          : QObject::tr("%1 ends in .%2 but will be written as %3.").arg(QFileInfo(path).fileName(), suffix, format.toUpper());
}

QString lastFolder() {
  const QString dir = QSettings().value("lastFolder").toString();
  return !dir.isEmpty() && QFileInfo(dir).isDir() ? dir : QDir::homePath();
}

void rememberFolder(const QString& path) {
  if (path.isEmpty()) return;
  const QFileInfo info(path);
  QSettings().setValue("lastFolder", info.isDir() ? info.absoluteFilePath() : info.absolutePath());
}

void addExportActions(QMenu* menu, QWidget* widget, const QString& baseName, std::function<QString()> csv) {
  // The dialog opens in the last folder used; a name whose extension disagrees with the
  // format is confirmed first (or the export is cancelled).
  auto ask = [widget](const QString& name, const QString& filter) {
    const QString format = filter.section('.', 1).section(')', 0, 0);
    QString path = QFileDialog::getSaveFileName(widget->window(), QObject::tr("Export"), QDir(lastFolder()).filePath(name), filter);
    if (path.isEmpty()) return path;
    rememberFolder(path);
    const QString mismatch = extensionMismatch(path, format);
    if (!mismatch.isEmpty() &&
        QMessageBox::warning(widget->window(), QObject::tr("Export"), mismatch + "\n" + QObject::tr("Write it anyway?"),
                             QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel) != QMessageBox::Yes)
      return QString();
    return path;
  };
  auto report = [widget](bool ok, const QString& error) {
    if (!ok) QMessageBox::warning(widget->window(), QObject::tr("Export failed"), error);
  };
  for (int scale : {1, 2, 4}) {
    menu->addAction(QObject::tr("Export PNG (%1x)...").arg(scale), widget, [=] {
      const QString path = ask(baseName + (scale > 1 ? QString("@%1x").arg(scale) : QString()) + ".png", "PNG (*.png)");
      QString error;
      if (!path.isEmpty()) report(exportPng(widget, path, scale, &error), error);
    });
  }
  menu->addAction(QObject::tr("Export SVG..."), widget, [=] {
    const QString path = ask(baseName + ".svg", "SVG (*.svg)");
    QString error;
    if (!path.isEmpty()) report(exportSvg(widget, path, baseName, &error), error);
  });
  if (csv)
    menu->addAction(QObject::tr("Export data (CSV)..."), widget, [=] {
      const QString path = ask(baseName + ".csv", "CSV (*.csv)");
      QString error;
      if (!path.isEmpty()) report(exportText(csv(), path, &error), error);
    });
}

void installExportMenu(QWidget* widget, const QString& baseName, std::function<QString()> csv) {
  installExportMenu(widget, widget, baseName, std::move(csv));
}

void installExportMenu(QWidget* trigger, QWidget* target, const QString& baseName, std::function<QString()> csv) {
  trigger->setContextMenuPolicy(Qt::CustomContextMenu);
  QObject::connect(trigger, &QWidget::customContextMenuRequested, trigger, [=](const QPoint& pos) {
    QMenu menu(trigger);
    addExportActions(&menu, target, baseName, csv);
    menu.exec(trigger->mapToGlobal(pos));
  });
}

}  // namespace modlab::ui
