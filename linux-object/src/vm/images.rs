//! [`ImageCache`]: program images loaded once per container and mapped again by every later
//! `execve` of the same file, as Linux maps an executable from its page cache instead of
//! reading it each time.
//!
//! An image is kept as its segments' [`VmObject`]s, filled from the file at a fixed bias. An
//! `execve` maps those objects into its new address space at the image's new place. The
//! objects are never written again: the kernel maps them `MAP_PRIVATE`, so a program's writes
//! to its data land in pages of its own (copy on write), and the frames stay as the file had
//! them. An image is found by its file's identity (device, inode, size and both change
//! times): a file written since has a new identity, and loads afresh.

use alloc::sync::Arc;
use alloc::vec::Vec;
use kernel_hal_lkm::sync::Mutex;
use kernel_hal_lkm::PhysicalMemory;
use kernel_hostfs::{FileType, INode, Metadata, Timespec};
use zircon_object::vm::VmObject;

use super::vm_error;
use crate::elf::{
    map_image, parse, read_image, AddressSpace, ElfImage, MappedImage, Protection, PAGE_SIZE,
    USER_SPACE_END,
};
use crate::error::{LxError, LxResult};

/// How many images a container keeps: enough for a shell, its applets and a dynamic
/// program's loader; the least recently used goes first.
pub const CACHED_IMAGES: usize = 32;

/// What makes two opens of a file the same contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileIdentity {
    dev: u64,
    inode: u64,
    size: u64,
    mtime: Timespec,
    ctime: Timespec,
}

impl FileIdentity {
    /// The identity of a file with `metadata`.
    pub fn of(metadata: &Metadata) -> Self {
        FileIdentity {
            dev: metadata.dev,
            inode: metadata.inode,
            size: metadata.size,
            mtime: metadata.mtime,
            ctime: metadata.ctime,
        }
    }
}

/// One page-granular piece of a kept image: where it goes (before the bias) and its object.
struct Piece {
    start: usize,
    len: usize,
    prot: Protection,
    vmo: Arc<VmObject>,
}

/// A loaded image, ready to be mapped at any bias.
pub struct ImageTemplate {
    image: ElfImage,
    pieces: Vec<Piece>,
}

impl ImageTemplate {
    /// The image.
    pub fn image(&self) -> &ElfImage {
        &self.image
    }

    /// Each piece: its start before the bias, its length, protection and object.
    pub fn pieces(&self) -> impl Iterator<Item = (usize, usize, Protection, &Arc<VmObject>)> {
        self.pieces
            .iter()
            .map(|piece| (piece.start, piece.len, piece.prot, &piece.vmo))
    }

    /// Reads `file` (its bytes `bytes`) into new objects of `memory`.
    fn load(memory: &Arc<dyn PhysicalMemory>, bytes: &[u8]) -> LxResult<Self> {
        let image = parse(bytes)?;
        let builder = TemplateBuilder {
            memory,
            pieces: Mutex::new(Vec::new()),
        };
        let mapped = map_image(&builder, bytes, image)?;
        // Kept before the bias, to be placed anew by each `execve`.
        let mut pieces = builder.pieces.into_inner();
        for piece in &mut pieces {
            piece.start = piece
                .start
                .checked_sub(mapped.bias)
                .ok_or(LxError::ENOEXEC)?;
        }
        Ok(ImageTemplate {
            image: mapped.image,
            pieces,
        })
    }
}

/// The address space an image is first loaded into: every piece becomes an object, at the
/// image's own addresses.
struct TemplateBuilder<'a> {
    memory: &'a Arc<dyn PhysicalMemory>,
    pieces: Mutex<Vec<Piece>>,
}

impl AddressSpace for TemplateBuilder<'_> {
    /// Any place will do: the pieces are kept before the bias.
    fn reserve(&self, _len: usize) -> LxResult<usize> {
        Ok(USER_SPACE_END)
    }

    fn map(&self, vaddr: usize, len: usize, prot: Protection) -> LxResult {
        let vmo = VmObject::new_paged(self.memory, len / PAGE_SIZE).map_err(vm_error)?;
        let mut pieces = self.pieces.lock();
        pieces.try_reserve(1).map_err(|_| LxError::ENOMEM)?;
        pieces.push(Piece {
            start: vaddr,
            len,
            prot,
            vmo,
        });
        Ok(())
    }

    fn write(&self, vaddr: usize, data: &[u8]) -> LxResult {
        let pieces = self.pieces.lock();
        let mut done = 0;
        while let Some(rest) = data.get(done..).filter(|rest| !rest.is_empty()) {
            let at = vaddr.checked_add(done).ok_or(LxError::EFAULT)?;
            let piece = pieces
                .iter()
                .find(|piece| (piece.start..piece.start + piece.len).contains(&at))
                .ok_or(LxError::EFAULT)?;
            let in_piece = at - piece.start;
            let chunk = rest.len().min(piece.len - in_piece);
            let part = rest.get(..chunk).ok_or(LxError::EFAULT)?;
            piece.vmo.write(in_piece, part).map_err(vm_error)?;
            done += chunk;
        }
        Ok(())
    }

    fn load_image(&self, _file: &dyn INode) -> LxResult<MappedImage> {
        // Only `map_image` runs on a builder.
        Err(LxError::ENOEXEC)
    }
}

/// The images of one container, most recently used last.
pub struct ImageCache {
    memory: Arc<dyn PhysicalMemory>,
    images: Mutex<Vec<(FileIdentity, Arc<ImageTemplate>)>>,
}

impl ImageCache {
    /// An empty cache whose images take frames of `memory`.
    pub fn new(memory: Arc<dyn PhysicalMemory>) -> Self {
        ImageCache {
            memory,
            images: Mutex::new(Vec::new()),
        }
    }

    /// The image of the executable `file`: kept from an earlier load of the same contents,
    /// or read now (`EACCES` for anything but a regular file, `ENOEXEC` for a bad image).
    pub fn get(&self, file: &dyn INode) -> LxResult<Arc<ImageTemplate>> {
        let metadata = file.metadata()?;
        if metadata.type_ != FileType::File {
            return Err(LxError::EACCES);
        }
        let identity = FileIdentity::of(&metadata);
        if let Some(template) = self.take(&identity) {
            return Ok(template);
        }
        let bytes = read_image(file)?;
        // A file changed while it was read is loaded, not kept.
        let unchanged = bytes.len() as u64 == metadata.size;
        let template = Arc::new(ImageTemplate::load(&self.memory, &bytes)?);
        if unchanged {
            self.keep(identity, template.clone());
        }
        Ok(template)
    }

    /// How many images are kept.
    pub fn len(&self) -> usize {
        self.images.lock().len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The image kept for `identity`, now the most recently used.
    fn take(&self, identity: &FileIdentity) -> Option<Arc<ImageTemplate>> {
        let mut images = self.images.lock();
        let index = images.iter().position(|(id, _)| id == identity)?;
        let entry = images.remove(index);
        let template = entry.1.clone();
        images.push(entry);
        Some(template)
    }

    /// Keeps `template` for `identity`, forgetting the least recently used image if full.
    fn keep(&self, identity: FileIdentity, template: Arc<ImageTemplate>) {
        let evicted = {
            let mut images = self.images.lock();
            if images.iter().any(|(id, _)| *id == identity) {
                return;
            }
            let evicted = (images.len() >= CACHED_IMAGES).then(|| images.remove(0));
            if images.try_reserve(1).is_ok() {
                images.push((identity, template));
            }
            evicted
        };
        // Outside the lock: freeing frames does file I/O.
        drop(evicted);
    }
}
