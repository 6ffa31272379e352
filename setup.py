"""Install mmflowpose.

mmpose, mmflow and mmdet are not in ``install_requires``: their declared
dependencies cannot be resolved beside the CPU torch wheel (see
``requirements/nodeps.txt`` and docs/en/get_started.md). ``make install``
installs them with ``--no-deps`` after the plain dependencies.
"""
import os
import os.path as osp
import shutil

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))
# configs/ and checkpoints/ side by side, so the offline configs' relative
# checkpoint paths resolve in an installed package too
MIM_FOLDERS = ('configs', 'tools', 'demo', 'checkpoints', 'model-index.yml')


def read_version() -> str:
    scope = {}
    with open(osp.join(HERE, 'mmflowpose', 'version.py')) as file:
        exec(file.read(), scope)
    return scope['__version__']


def read_requirements(name: str) -> list:
    requirements = []
    with open(osp.join(HERE, 'requirements', name)) as file:
        for line in file:
            line = line.split('#', 1)[0].strip()
            if line and not line.startswith('-'):
                requirements.append(line)
    return requirements


def add_mim_extension() -> None:
    """Expose configs/tools under ``mmflowpose/.mim`` (as mmpose does).

    mmengine resolves ``mmflowpose::path/to/config.py`` inside the installed
    package's ``.mim`` folder (reading ``model-index.yml`` first): symlinks
    for editable installs, copies for wheels.
    """
    mim_path = osp.join(HERE, 'mmflowpose', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    editable = any(arg in ('develop', 'editable_wheel')
                   for arg in os.sys.argv)
    for folder in MIM_FOLDERS:
        source = osp.join(HERE, folder)
        target = osp.join(mim_path, folder)
        if not osp.exists(source):
            continue
        if osp.islink(target) or osp.isfile(target):
            os.remove(target)
        elif osp.isdir(target):
            shutil.rmtree(target)
        if editable:
            os.symlink(osp.relpath(source, mim_path), target)
        elif osp.isfile(source):
            shutil.copyfile(source, target)
        else:
            shutil.copytree(source, target)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='mmflowpose',
        version=read_version(),
        description='Human optical flow and 3D pose that bootstrap each '
        'other, for mmpose and mmflow',
        long_description=open(osp.join(HERE, 'README.md')).read()
        if osp.exists(osp.join(HERE, 'README.md')) else '',
        long_description_content_type='text/markdown',
        license='Apache License 2.0',
        python_requires='>=3.8',
        packages=find_packages(exclude=('configs', 'tools', 'demo', 'tests',
                                        'benchmarks', 'docs')),
        include_package_data=True,
        package_data={'mmflowpose': ['.mim/**/*']},
        install_requires=read_requirements('runtime.txt'),
        extras_require={'tests': read_requirements('tests.txt')},
        zip_safe=False)
