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
#include <QBuffer>
#include <QRegularExpression>
#include <QImageWriter>
#include <QPainter>
#include <QSaveFile>
#include <QSvgGenerator>
#include <QWidget>

#include "ui/style/appearance.h"

namespace modlab::ui {

bool exportPng(QWidget* widget, const QString& path, double scale, QString* error) {
  const ExportAppearance onWhite;
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
  // Whole or not at all: written beside, renamed over the path once complete.
  QSaveFile file(path);
  QImageWriter writer(&file, "png");
  if (!file.open(QIODevice::WriteOnly) || !writer.write(image) || !file.commit()) {
    if (error)
      *error = QObject::tr("cannot write %1: %2").arg(path, file.error() != QFileDevice::NoError ? file.errorString() : writer.errorString());
    file.cancelWriting();
    return false;
  }
  return true;
}

namespace {
// QSvgGenerator writes a Qt Charts curve as one <polyline> per segment (thousands per chart):
// consecutive segments that continue each other become one polyline, one per curve.
QByteArray joinPolylines(const QByteArray& svg) {
  static const QRegularExpression segment(R"re(^<polyline fill="none" vector-effect="([^"]*)" points="([^"]*)" />$)re");
  QByteArray out;
  out.reserve(svg.size());
  QString effect;
  QStringList points;  // the polyline being joined
  const auto flush = [&] {
    if (points.isEmpty()) return;
    out += QString(R"re(<polyline fill="none" vector-effect="%1" points="%2 " />)re").arg(effect, points.join(' ')).toUtf8() + '\n';
    points.clear();
  };
  for (const QByteArray& line : svg.split('\n')) {
    const QRegularExpressionMatch m = segment.match(QString::fromUtf8(line));
    if (!m.hasMatch()) {
      flush();
      out += line + '\n';
      continue;
    }
    const QStringList next = m.captured(2).split(' ', Qt::SkipEmptyParts);
    if (!points.isEmpty() && m.captured(1) == effect && !next.isEmpty() && next.front() == points.back()) {
      points += next.mid(1);
    } else {
      flush();
      effect = m.captured(1);
      points = next;
    }
  }
  flush();
  out.chop(1);  // the split's last, empty line
  return out;
}
}  // namespace

bool exportSvg(QWidget* widget, const QString& path, const QString& title, QString* error) {
  const ExportAppearance onWhite;
  QBuffer buffer;
  QSvgGenerator svg;
  svg.setOutputDevice(&buffer);
  svg.setSize(widget->size());
  svg.setViewBox(QRect(QPoint(), widget->size()));
  // The widget's own dots per inch: text comes out the size it is on screen and in the PNG.
  svg.setResolution(widget->logicalDpiX());
  svg.setTitle(title);
  svg.setDescription(QObject::tr("Exported from Modularity Lab"));
  {
    QPainter painter;
    if (!painter.begin(&svg)) {
      if (error) *error = QObject::tr("cannot draw %1 as SVG").arg(title);
      return false;
    }
    widget->render(&painter, QPoint(), QRegion(), QWidget::DrawChildren);
  }
  QSaveFile file(path);  // atomic: temp file + rename
  if (!file.open(QIODevice::WriteOnly) || file.write(joinPolylines(buffer.data())) < 0 || !file.commit()) {
    if (error) *error = QObject::tr("cannot write %1: %2").arg(path, file.errorString());
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
