//! Progress bars on stderr (created, bound, running; nodes while the
//! cluster comes up). Hidden with `--quiet` or when stderr is not a
//! terminal.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub(crate) struct Progress {
    multi: MultiProgress,
    nodes: ProgressBar,
    created: ProgressBar,
    bound: ProgressBar,
    running: ProgressBar,
}

impl Progress {
    pub(crate) fn new(quiet: bool, pods: usize, nodes: usize) -> Progress {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let multi = MultiProgress::with_draw_target(target);
        let style =
            ProgressStyle::with_template("{prefix:>8} [{bar:40}] {pos:>7}/{len:7} {elapsed:>4}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
        let bar = |name: &str, length: usize| {
            let bar = multi.add(ProgressBar::new(length as u64));
            bar.set_style(style.clone());
            bar.set_prefix(name.to_string());
            bar
        };
        let nodes = bar("nodes", nodes);
        let created = bar("created", pods);
        let bound = bar("bound", pods);
        let running = bar("running", pods);
        Progress {
            multi,
            nodes,
            created,
            bound,
            running,
        }
    }

    pub(crate) fn nodes(&self, ready: usize) {
        self.nodes.set_position(ready as u64);
    }

    pub(crate) fn nodes_done(&self) {
        self.nodes.finish();
    }

    pub(crate) fn pods(&self, created: usize, bound: usize, running: usize) {
        for (bar, value) in [
            (&self.created, created),
            (&self.bound, bound),
            (&self.running, running),
        ] {
            if value as u64 > bar.length().unwrap_or(0) {
                bar.set_length(value as u64);
            }
            bar.set_position(value as u64);
        }
    }

    pub(crate) fn finish(&self) {
        for bar in [&self.created, &self.bound, &self.running] {
            bar.finish();
        }
        let _ = self.multi.clear();
    }
}
