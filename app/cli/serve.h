// modlab-cli serve: the browser view of a runs folder, a run folder or a sweep folder
// (and bench --serve-viewers, its cost to training). Built with the GUI library; a build
// without it says so.
#pragma once

#include <string>

namespace modlab::cli {

struct ServeArgs {
  std::string dir;  // "": the runs folder the app uses
  int port = 8750;  // 0: any free port (printed)
  std::string bind = "127.0.0.1";
  bool bindGiven = false;
};
int serve(const ServeArgs& args, int argc, char** argv);
// Training steps/s alone and with `viewers` browser views following it live (loopback).
int benchServe(int viewers, double seconds, bool json, int argc, char** argv);

}  // namespace modlab::cli
