//! A test's guard over the whole of tracefs: saves every setting of every instance and the
//! global ones; restores them (and removes instances made meanwhile) on `finish` or on drop,
//! and `finish` proves with the fingerprint that the kernel is as it was found.

use tracefs::{Session, Tracefs};

use super::state::{diff, fingerprint};

/// Saves every setting of every instance and the global ones; restores them (and removes
/// instances made meanwhile) on `finish` or on drop.
pub struct Guard {
    fs: Tracefs,
    session: Option<Session>,
    instances: Vec<String>,
    before: String,
}

impl Guard {
    pub fn new(fs: &Tracefs) -> Guard {
        let before = fingerprint(fs);
        let mut s = Session::new(fs);
        s.save_global().unwrap();
        for inst in fs.all_instances().unwrap() {
            s.save_instance(&inst).unwrap();
        }
        Guard {
            fs: fs.clone(),
            session: Some(s),
            instances: fs.instance_names().unwrap(),
            before,
        }
    }

    fn put_back(&mut self) -> Result<(), Vec<tracefs::Error>> {
        for n in self.fs.instance_names().unwrap_or_default() {
            if !self.instances.contains(&n) {
                if let Ok(i) = self.fs.instance(Some(&n)) {
                    let _ = i.disable_all_events();
                }
                let _ = self.fs.remove_instance(&n);
            }
        }
        match self.session.take() {
            Some(s) => s.restore(),
            None => Ok(()),
        }
    }

    /// Restores and checks that everything is as before.
    pub fn finish(mut self) {
        if let Err(e) = self.put_back() {
            panic!("restoring tracefs failed: {e:?}");
        }
        let after = fingerprint(&self.fs);
        assert!(
            self.before == after,
            "tracefs was not left as it was found:\n{}",
            diff(&self.before, &after)
        );
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.put_back();
    }
}
