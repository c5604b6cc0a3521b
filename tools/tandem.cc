// tandem: the Tandem command line, in the style of p4.
//
//   tandem [-p [ssl:]HOST:PORT] [-u USER] [--json] COMMAND [ARGS...]
//
// Client-side pieces: `login` keeps the ticket in $TANDEM_TICKETS
// (~/.tandem_tickets); `trust` pins an ssl: server's fingerprint in
// $TANDEM_TRUST (~/.tandem_trust); `txn` and `user-add` read stdin.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "journal/file.h"
#include "journal/numbers.h"
#include "tools/heartbeat.h"
#include "tools/json_output.h"
#include "tools/output.h"
#include "tools/ping.h"
#include "tools/progress.h"
#include "transport/client.h"
#include "transport/content_client.h"
#include "transport/hello.h"

namespace tandem {
namespace {

constexpr const char* kUsage =
    "usage: tandem [-p [ssl:]HOST:PORT[,...]] [-u USER] [--json] [--timeout SECONDS] COMMAND "
    "[ARGS...]\n"
    "  (several -p addresses: the command goes to the master of the highest epoch; each is\n"
    "  given 5 s to answer. --timeout: give up on a server silent that long; default: wait;\n"
    "  a failover step may be silent for its -w wait and more)\n"
    "commands:\n"
    "  login                       password from $TANDEM_PASSWORD or stdin\n"
    "  heartbeat [-t TARGET] [-i MS] [-w MS] [-m COUNT] [-n MAX] [--missing CMD] [--resumed CMD]\n"
    "            [--dead CMD]      watch a server; run commands when it is missing or dead\n"
    "  trust [-y]                  show / pin an ssl: server's fingerprint\n"
    "  info\n"
    "  ping                        ready for its role? exit 0 ready, 1 not ready (why), 2 no "
    "answer;\n"
    "                              no login needed; with -p A,B,... each server\n"
    "  put TABLE KEY VALUE | get TABLE KEY | del TABLE KEY | scan TABLE [PREFIX]\n"
    "  txn                         ops on stdin: 'put TABLE KEY VALUE' / 'del TABLE KEY'\n"
    "  admin checkpoint|journal|stop | admin reseed -y   (reseed: on a standby or replica)\n"
    "  journaldbchecksums [-t TABLE]\n"
    "  configure set [SERVERID#]NAME=VALUE | unset NAME | show [-a]   (docs/settings.md)\n"
    "  user-add NAME --level read|write|service|super   password on stdin\n"
    "  server -o ID | server -i (spec on stdin) | server -d ID | servers -J\n"
    "  pull -lj | pull -l          replication state of this server | pending pull -u transfers\n"
    "  failover [-y] [-i] [-s ID] [--force]   on a standby: become the master (without -y: check)\n"
    "  failback [-y]               on the old master's standby: fail back to it\n"
    "  submit FILE [-d DEPOTPATH] | print DEPOTPATH[#REV] | files [PREFIX] | filelog DEPOTPATH\n"
    "  verify [-q] [-t] [PREFIX]   recompute archive digests: BAD! / MISSING! rows, exit 1\n"
    "                              (-t on a replica: fetch again what is bad or missing)\n"
    "  help [COMMAND]              this text, or the lines about COMMAND; also COMMAND -h\n"
    "  journaldbchecksums -s       on a standby/replica: verdicts of the last marker\n"
    "exit codes: 0 ok, 1 error, 2 usage, 3 a checksum verdict DIFFERs (journaldbchecksums -s),\n"
    "  4 not connected to its upstream (pull -lj, info on a standby or replica)\n";

// 0 ok, 1 error, 2 usage; and what a monitoring script asks about.
constexpr int kExitDiffer = 3;        // journaldbchecksums -s: a table DIFFERs
constexpr int kExitNotConnected = 4;  // pull -lj: not connected to its upstream

std::string HomeFile(const char* env, const char* name) {
  if (const char* v = std::getenv(env); v != nullptr && *v) return v;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/" + name;
}

std::string ReadLine(std::istream& in) {
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Ticket file lines: ADDRESS USER TICKET
std::string LoadTicket(const std::string& file, const std::string& addr, const std::string& user) {
  std::ifstream in(file);
  std::string a, u, t;
  while (in >> a >> u >> t) {
    if (a == addr && u == user) return t;
  }
  return "";
}

Status SaveTicket(const std::string& file, const std::string& addr, const std::string& user,
                  const std::string& ticket) {
  std::ifstream in(file);
  std::ostringstream kept;
  std::string a, u, t;
  while (in >> a >> u >> t) {
    if (!(a == addr && u == user)) kept << a << " " << u << " " << t << "\n";
  }
  kept << addr << " " << user << " " << ticket << "\n";
  Status st = WriteFileDurably(file, kept.str());
  if (st.ok()) ::chmod(file.c_str(), 0600);
  return st;
}

// --json: errors too are JSON (on stdout, where a script reads the rest).
bool json_errors = false;

int Fail(const Status& st) {
  if (json_errors) {
    std::cout << FormatJsonError(st) << std::flush;
  } else {
    std::cerr << "tandem: " << st.message() << "\n";
  }
  return st.code() == Code::kInvalidArgument ? 2 : 1;
}

constexpr std::chrono::milliseconds kAskTimeout{5000};

// -p A,B,C: the reachable master of the highest epoch among them (a client
// that knows every server that may be master finds the current one).
Result<std::string> FindMaster(const std::string& list, const ClientOptions& copts,
                               const std::string& tickets, const std::string& user) {
  const auto ask = copts.io_timeout.count() > 0 ? copts.io_timeout : kAskTimeout;
  std::string best;
  uint32_t best_epoch = 0;
  std::string seen;
  TANDEM_ASSIGN_OR_RETURN(std::vector<Address> addresses, ParseAddressList(list));
  for (const Address& addr : addresses) {
    const std::string one = addr.ToString();
    auto client = Client::Connect(addr, copts);
    if (!client.ok()) continue;
    // A hung or black-holed server in the list must not hold up the rest.
    auto info = (*client)->Call({user, LoadTicket(tickets, one, user), {"info"}}, ask);
    if (!info.ok() || !info->status.ok() || info->rows.empty()) continue;
    std::string role(FieldOf(info->rows[0], "role"));
    seen += " " + one + " (" + role + ")";
    if (role != "standard") continue;
    uint32_t epoch = ParseDecimal<uint32_t>(FieldOf(info->rows[0], "epoch")).value_or(0);
    if (best.empty() || epoch > best_epoch) {
      best = one;
      best_epoch = epoch;
    }
  }
  if (best.empty()) {
    return Status::Unavailable("no master among " + list +
                               (seen.empty() ? " (none reachable)" : ":" + seen));
  }
  // The client remembers the highest epoch it has seen, and never sends a
  // command to a master older than that.
  const std::string epoch_file = HomeFile("TANDEM_EPOCH", ".tandem_epoch");
  uint32_t remembered = 0;
  if (auto text = ReadFileToString(epoch_file); text.ok()) {
    remembered = ParseDecimal<uint32_t>(text->substr(0, text->find('\n'))).value_or(0);
  }
  if (best_epoch < remembered) {
    return Status::FailedPrecondition("the only master reachable (" + best + ") is of epoch " +
                                      std::to_string(best_epoch) + ", older than epoch " +
                                      std::to_string(remembered) + " seen before; refusing it");
  }
  if (best_epoch > remembered) (void)WriteFileDurably(epoch_file, std::to_string(best_epoch));
  return best;
}

// A long command (failover -y) that reports its lines as they happen: print
// each frame until the one marked "end", which carries the result.
// A promoted standby restarts as the master on the same address: the
// failover is done for the operator once it accepts writes there.
// A reply as text, or as --json: failover and failback say what they do
// line by line (one object each), every other command answers one array.
std::string Format(const std::string& command, const std::vector<Row>& rows, bool json) {
  if (!json) return FormatText(command, rows);
  if (command == "failover" || command == "failback") return FormatJsonProgress(rows);
  return FormatJson(rows);
}

int AwaitMaster(const Address& address, bool json) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  Status last = Status::Unavailable("no answer yet");
  while (std::chrono::steady_clock::now() < deadline) {
    auto hello = SayHello(address, std::chrono::milliseconds(2000), "");
    if (hello.ok() && hello->is_master()) {
      std::cout << (json ? FormatJsonProgress(
                               {{{"step", address.ToString() + " serves as the master"}}})
                         : "==> " + address.ToString() + " serves as the master\n");
      return 0;
    }
    last = hello.ok() ? Status::Unavailable("it answers as " + hello->role) : hello.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Fail(last.Annotate("the failover finished, but " + address.ToString() +
                            " did not serve as the master within 120 s (see its log)"));
}

int FollowProgress(Client* client, const Address& address, const std::string& command, bool json) {
  for (;;) {
    auto frame = client->ReadFrame();
    if (!frame.ok()) return Fail(frame.status().Annotate("connection lost during " + command));
    auto resp = DecodeResponse(frame->second);
    if (!resp.ok()) return Fail(resp.status());
    if (!resp->rows.empty() && FieldOf(resp->rows[0], "end") == "1") {
      client->Shutdown();  // lets the server go on (a promoted one restarts as master)
      if (!resp->status.ok()) return Fail(resp->status);
      return FieldOf(resp->rows[0], "promoted") == "1" ? AwaitMaster(address, json) : 0;
    }
    // One JSON object per line: a reader acts on each as it comes.
    std::cout << (json ? FormatJsonProgress(resp->rows) : FormatText(command, resp->rows))
              << std::flush;
  }
}

// submit and print stream the file through in chunks, whatever its size.
int Submit(Client* client, const Credentials& who, const std::vector<std::string>& args,
           bool json) {
  if (args.size() != 2 && !(args.size() == 4 && args[2] == "-d")) {
    std::cerr << "usage: tandem submit FILE [-d DEPOTPATH]\n";
    return 2;
  }
  std::string depot = args.size() == 4 ? args[3] : "//depot/" + BaseName(args[1]);
  auto file = File::Open(args[1], O_RDONLY);
  if (!file.ok()) return Fail(file.status());
  auto size = file->Size();
  if (!size.ok()) return Fail(size.status());
  Progress progress = Progress::OnStderr("submit " + depot, *size);
  auto row = SubmitContent(client, who, depot, *size, [&](char* buf, size_t n, uint64_t offset) {
    progress.Update(offset);
    return file->PRead(buf, n, offset);
  });
  if (!row.ok()) return Fail(row.status());
  progress.Update(*size);
  progress.Finish();
  std::cout << (json ? FormatJson({*row}) : FormatText("submit", {*row}));
  return 0;
}

int Print(Client* client, const Credentials& who, const std::vector<std::string>& args, bool json) {
  if (args.size() != 2) {
    std::cerr << "usage: tandem print DEPOTPATH[#REV]\n";
    return 2;
  }
  std::string content;  // JSON wants one document: the content goes into the row
  auto row = PrintRevision(client, who, args[1], [&](std::string_view data) {
    if (json) {
      content.append(data);
    } else {
      std::cout.write(data.data(), static_cast<std::streamsize>(data.size()));
    }
    return std::cout ? Status::Ok() : Status::IOError("writing standard output");
  });
  if (!row.ok()) return Fail(row.status());
  if (json) {
    row->emplace_back("content", std::move(content));
    std::cout << FormatJson({*row});
  }
  return std::cout.flush() ? 0 : Fail(Status::IOError("writing standard output"));
}

// The usage lines about `command` (and their continuation lines).
std::string UsageOf(const std::string& command) {
  std::istringstream in(kUsage);
  std::string out, line;
  bool taking = false;
  while (std::getline(in, line)) {
    if (line.rfind("  ", 0) == 0 && line.size() > 2 && line[2] != ' ') {
      std::istringstream words(line);
      taking = false;
      for (std::string w; words >> w;) {
        if (w == command) taking = true;
      }
    }
    if (taking) out += line + "\n";
  }
  return out;
}

int Help(const std::vector<std::string>& topic) {
  if (topic.empty()) {
    std::cout << kUsage;
    return 0;
  }
  std::string lines = UsageOf(topic[0]);
  if (lines.empty()) {
    std::cerr << "tandem: no command '" << topic[0] << "'\n" << kUsage;
    return 2;
  }
  std::cout << "usage: tandem [-p ADDRESS] [-u USER] [--json]\n" << lines;
  return 0;
}

// heartbeat's options, parsed as CLI11 does the others: typed and in range.
int ParseHeartbeat(const std::vector<std::string>& args, HeartbeatOptions* hb) {
  CLI::App app("tandem heartbeat: watch a server; run commands when it is missing or dead",
               "tandem heartbeat");
  std::string target;
  app.add_option("-t", target, "the server to watch (default: -p)");
  app.add_option("-i", hb->interval_ms, "ms between heartbeats")->check(CLI::Range(10, 86'400'000));
  app.add_option("-w", hb->wait_ms, "ms one heartbeat may take")->check(CLI::Range(10, 86'400'000));
  app.add_option("-m", hb->missing, "misses in a row that mean dead")
      ->check(CLI::Range(1, 86'400'000));
  app.add_option("-n", hb->max, "stop after this many (0: never)")
      ->check(CLI::Range(0L, long{1} << 40));
  app.add_option("--missing", hb->on_missing, "command to run when one is missed");
  app.add_option("--resumed", hb->on_resumed, "command to run when it answers again");
  app.add_option("--dead", hb->on_dead, "command to run when it is dead");
  std::vector<std::string> reversed(args.rbegin(), args.rend() - 1);  // CLI11 takes them reversed
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!target.empty()) {
    auto t = Address::Parse(target);
    if (!t.ok()) return Fail(t.status());
    hb->target = *t;
  }
  return -1;  // parsed: go on
}

int Main(int argc, char** argv) {
  std::string port = std::getenv("TANDEMPORT") ? std::getenv("TANDEMPORT") : "127.0.0.1:1666";
  std::string user = std::getenv("TANDEMUSER") ? std::getenv("TANDEMUSER")
                     : std::getenv("USER")     ? std::getenv("USER")
                                               : "";
  bool json = false;
  // The options before COMMAND; COMMAND and its arguments go to the server
  // (or to the few commands answered here) as they are.
  CLI::App app("tandem: the Tandem command line", "tandem");
  app.set_help_flag();  // -h prints the commands too (kUsage), not only the options
  bool help = false;
  app.add_flag("-h,--help", help);
  app.add_option("-p", port, "[ssl:]HOST:PORT[,...] (or $TANDEMPORT)");
  app.add_option("-u", user, "user (or $TANDEMUSER)");
  app.add_flag("--json", json, "JSON output (docs/json.md)");
  // A command may rightly take long (a failover step, a commit held at the
  // gate up to commit.wait.timeout), so by default nothing is cut short.
  unsigned timeout_s = 0;
  app.add_option("--timeout", timeout_s, "give up on a server silent for SECONDS (default: wait)")
      ->check(CLI::Range(0u, 86400u));
  app.set_version_flag("--version", std::string("tandem ") + TANDEM_VERSION);
  app.prefix_command();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (app.exit(e) == 0) return 0;
    std::cerr << kUsage;
    return 2;
  }
  if (help) {
    std::cout << kUsage;
    return 0;
  }
  json_errors = json;
  std::vector<std::string> args = app.remaining();
  if (args.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  if (args[0].starts_with("-")) {  // an option before COMMAND that tandem does not have
    std::cerr << "tandem: unknown option '" << args[0] << "'\n" << kUsage;
    return 2;
  }

  const std::string command = args[0];
  // Answered here: nothing is sent (an 'admin reseed -h' once ran the reseed).
  if (command == "help") return Help({args.begin() + 1, args.end()});
  if (std::find(args.begin() + 1, args.end(), "-h") != args.end() ||
      std::find(args.begin() + 1, args.end(), "--help") != args.end()) {
    return Help({command});
  }

  ClientOptions copts;
  copts.trust_file = HomeFile("TANDEM_TRUST", ".tandem_trust");
  copts.io_timeout = std::chrono::seconds(timeout_s);
  if (command == "ping") {
    if (args.size() != 1) {
      std::cerr << "usage: tandem [-p ADDRESS[,...]] ping\n";
      return 2;
    }
    return RunPing(port, copts, json);  // each server of a -p list
  }
  if (port.find(',') != std::string::npos) {
    auto master = FindMaster(port, copts, HomeFile("TANDEM_TICKETS", ".tandem_tickets"), user);
    if (!master.ok()) return Fail(master.status());
    port = *master;
  }
  auto address = Address::Parse(port);
  if (!address.ok()) return Fail(address.status());
  if (command == "trust") {
    copts.trust_new = args.size() > 1 && args[1] == "-y";
    auto client = Client::Connect(*address, copts);
    if (!client.ok()) return Fail(client.status());
    std::cout << address->ToString() << " fingerprint " << (*client)->server_fingerprint()
              << (copts.trust_new ? " (trusted)" : "") << "\n";
    return 0;
  }

  const std::string tickets = HomeFile("TANDEM_TICKETS", ".tandem_tickets");
  if (command == "heartbeat") {
    HeartbeatOptions hb;
    hb.target = *address;
    hb.client = copts;
    hb.user = user;
    hb.json = json;
    if (int code = ParseHeartbeat(args, &hb); code >= 0) return code;
    hb.ticket = LoadTicket(tickets, hb.target.ToString(), user);
    return RunHeartbeat(hb);
  }
  Request req{user, LoadTicket(tickets, address->ToString(), user), args};
  if (command == "login") {
    const char* pw = std::getenv("TANDEM_PASSWORD");
    req.args = {"login", pw != nullptr ? pw : ReadLine(std::cin)};
  } else if (command == "txn") {
    for (std::string line; std::getline(std::cin, line);) req.args.push_back(line);
  } else if (command == "user-add") {
    req.args.push_back(ReadLine(std::cin));
  } else if (command == "server" && args.size() == 2 && args[1] == "-i") {
    std::ostringstream spec;
    spec << std::cin.rdbuf();
    req.args.push_back(spec.str());
  }

  auto client = Client::Connect(*address, copts);
  if (!client.ok()) return Fail(client.status());
  if (command == "submit") return Submit(client->get(), {req.user, req.ticket}, args, json);
  if (command == "print") return Print(client->get(), {req.user, req.ticket}, args, json);
  auto resp = (*client)->Call(req);
  if (!resp.ok()) return Fail(resp.status());
  // A scan comes in pages; the last row of all but the last page is {next}.
  while (command == "scan" && resp->status.ok() && !resp->rows.empty() &&
         !FieldOf(resp->rows.back(), "next").empty()) {
    Request more = req;
    more.args.push_back("-a");
    more.args.emplace_back(FieldOf(resp->rows.back(), "next"));
    resp->rows.pop_back();
    auto page = (*client)->Call(more);
    if (!page.ok()) return Fail(page.status());
    if (!page->status.ok()) return Fail(page->status);
    for (Row& r : page->rows) resp->rows.push_back(std::move(r));
  }
  if (resp->status.ok() && !resp->rows.empty() && FieldOf(resp->rows[0], "progress") == "1") {
    return FollowProgress(client->get(), *address, command, json);
  }
  if (!resp->status.ok()) {
    // A refused failover still says what it checked and undid.
    if (!resp->rows.empty()) std::cout << Format(command, resp->rows, json);
    return Fail(resp->status);
  }
  if (command == "login" && !resp->rows.empty()) {
    std::string ticket(FieldOf(resp->rows[0], "ticket"));
    if (Status st = SaveTicket(tickets, address->ToString(), user, ticket); !st.ok())
      return Fail(st);
    if (!json) {
      std::cout << "User " << user << " logged in (" << FieldOf(resp->rows[0], "level")
                << " access).\n";
      return 0;
    }
  }
  std::cout << Format(command, resp->rows, json);
  if (command == "verify") {
    for (const Row& r : resp->rows) {
      if (FieldOf(r, "status") == "BAD!" || FieldOf(r, "status") == "MISSING!") return 1;
    }
  }
  // Exit codes a script can test (README: exit codes).
  if (command == "journaldbchecksums") {
    for (const Row& r : resp->rows) {
      if (!FieldOf(r, "verdict").empty() && FieldOf(r, "verdict") != "match") return kExitDiffer;
    }
  }
  if ((command == "pull" || command == "info") && resp->rows.size() == 1 &&
      FieldOf(resp->rows[0], "connected") == "0") {
    return kExitNotConnected;
  }
  return 0;
}

}  // namespace
}  // namespace tandem

int main(int argc, char** argv) { return tandem::Main(argc, argv); }
